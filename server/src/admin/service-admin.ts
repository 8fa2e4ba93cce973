// Audit log, admin tokens and status: ListAuditEvents, CreateAdminToken, ListAdminTokens,
// DeleteAdminToken, GetStatus.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { generateAdminToken, secretPrefix } from "../secrets/virtual-key.js";
import { createAdminToken, deleteAdminToken, listAdminTokens } from "../store/admin-tokens.js";
import { listAuditEvents } from "../store/audit.js";
import { isUniqueViolation } from "../store/errors.js";
import { adminTokenMessage, auditMessage, ROLE_ENUM, roleName } from "./convert.js";
import { mutate, principalOf, type Svc } from "./deps.js";
import { alreadyExists, failedPrecondition, invalid, notFound } from "./errors.js";
import { decodeTimeToken, encodeTimeToken, pageSize } from "./page.js";
import { checkId, checkRequired, checkText } from "./validate.js";

export function adminService(svc: Svc, bootstrapToken: string): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async listAuditEvents(req) {
      const limit = pageSize(req.pageSize);
      const before = decodeTimeToken("audit", req.pageToken);
      const page = await listAuditEvents(svc.db, {
        limit,
        ...(before ? { before } : {}),
        ...(req.actor ? { actor: checkText("actor", req.actor) } : {}),
        ...(req.action ? { actionPrefix: checkText("action", req.action) } : {}),
        ...(req.startTime ? { start: timestampDate(req.startTime) } : {}),
      });
      return { events: page.rows.map(auditMessage), nextPageToken: encodeTimeToken("audit", page.next) };
    },

    async createAdminToken(req, ctx) {
      const name = checkId("name", checkRequired("name", req.name));
      const role = roleName(req.role);
      if (!role) throw invalid("role", "must be ADMIN_ROLE_ADMIN, ADMIN_ROLE_OPERATOR or ADMIN_ROLE_VIEWER");
      if (svc.auth.reservedNames().has(name)) throw alreadyExists("admin token", name);
      const secret = generateAdminToken();
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        let created;
        try {
          created = await createAdminToken(
            trx,
            { name, role, tokenHash: secret.hash, prefix: secret.prefix },
            now,
          );
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyExists("admin token", name);
          throw err;
        }
        await audit("admin_token.create", `admin_tokens/${name}`, { role, prefix: secret.prefix });
        return created;
      });
      svc.auth.invalidate();
      return { token: adminTokenMessage(row, "api"), secret: secret.secret };
    },

    async listAdminTokens() {
      const fixed = [
        adminTokenMessage(
          { name: "admin", role: "admin", prefix: secretPrefix(bootstrapToken) },
          "bootstrap",
        ),
        ...svc.config.admin.tokens.map((t) =>
          adminTokenMessage({ name: t.name, role: t.role, prefix: secretPrefix(t.token) }, "config"),
        ),
      ];
      const stored = (await listAdminTokens(svc.db))
        .filter((r) => !svc.auth.reservedNames().has(r.name))
        .map((r) => adminTokenMessage(r, "api"));
      return { tokens: [...fixed, ...stored] };
    },

    async deleteAdminToken(req, ctx) {
      const name = checkRequired("name", req.name);
      if (svc.auth.reservedNames().has(name)) {
        throw failedPrecondition(`admin token ${JSON.stringify(name)} is not managed through the API`);
      }
      await mutate(svc, ctx, async (trx, audit) => {
        if (!(await deleteAdminToken(trx, name))) throw notFound("admin token", name);
        await audit("admin_token.delete", `admin_tokens/${name}`);
      });
      svc.auth.invalidate();
      return {};
    },

    async getStatus(_req, ctx) {
      const p = principalOf(ctx);
      return { ...(await svc.runtime.status()), callerRole: ROLE_ENUM[p.role], callerName: p.name };
    },
  };
}
