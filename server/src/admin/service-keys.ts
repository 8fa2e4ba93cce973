// Virtual keys: CreateKey, GetKey, ListKeys, UpdateKey, RevokeKey, RotateKey, DeleteKey.
import { durationMs, timestampDate, type Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { generateVirtualKey } from "../secrets/virtual-key.js";
import { isForeignKeyViolation } from "../store/errors.js";
import { getInstance } from "../store/instances.js";
import {
  createKey,
  deleteKey,
  getKey,
  listKeys,
  newKeyId,
  revokeKey,
  rotateKey,
  updateKey,
  type KeyPolicyFields,
} from "../store/keys.js";
import { keyMessage } from "./convert.js";
import { mutate, type Svc } from "./deps.js";
import { failedPrecondition, invalid, notFound } from "./errors.js";
import { maskPaths } from "./field-mask.js";
import { decodeIdToken, encodeIdToken, pageSize } from "./page.js";
import {
  checkCidrs,
  checkId,
  checkRequired,
  checkStringList,
  checkText,
  toBudgetsJson,
  toRateLimitJson,
} from "./validate.js";

const UPDATE_PATHS = [
  "display_name",
  "allowed_models",
  "source_cidrs",
  "expires_at",
  "rate_limit",
  "budgets",
  "tag",
] as const;
const LIMIT_PATHS: readonly string[] = ["allowed_models", "source_cidrs", "rate_limit", "budgets"];
const MAX_GRACE_MS = 30 * 86_400_000;

function positiveMs(field: string, d: Duration): number {
  const ms = durationMs(d);
  if (!Number.isFinite(ms) || ms <= 0) throw invalid(field, "must be positive");
  return ms;
}

export function keyService(svc: Svc): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async createKey(req, ctx) {
      const instanceId = checkId("instance_id", checkRequired("instance_id", req.instanceId));
      const now = svc.now();
      let expiresAt: Date | null = null;
      if (req.expiresAt) {
        expiresAt = timestampDate(req.expiresAt);
        if (expiresAt <= now) throw invalid("expires_at", "must be in the future");
      } else if (req.ttl) {
        expiresAt = new Date(now.getTime() + positiveMs("ttl", req.ttl));
      }
      const fields: KeyPolicyFields = {
        displayName: checkText("display_name", req.displayName),
        allowedModels: checkStringList("allowed_models", req.allowedModels),
        sourceCidrs: checkCidrs("source_cidrs", req.sourceCidrs),
        rateLimit: toRateLimitJson("rate_limit", req.rateLimit),
        budgets: toBudgetsJson("budgets", req.budgets),
        tag: checkText("tag", req.tag, 64),
        expiresAt,
      };
      const secret = generateVirtualKey();
      const row = await mutate(svc, ctx, async (trx, audit, at) => {
        // Disabled instances may get keys; they are refused at use until the instance is enabled.
        if (!(await getInstance(trx, instanceId))) throw notFound("instance", instanceId);
        let created;
        try {
          created = await createKey(
            trx,
            { id: newKeyId(), instanceId, prefix: secret.prefix, secretHash: secret.hash, ...fields },
            at,
          );
        } catch (err) {
          if (isForeignKeyViolation(err)) throw notFound("instance", instanceId);
          throw err;
        }
        await audit("key.create", `keys/${created.id}`, {
          instance_id: instanceId,
          prefix: secret.prefix,
          display_name: fields.displayName,
          allowed_models: fields.allowedModels,
          source_cidrs: fields.sourceCidrs,
          rate_limit: fields.rateLimit,
          budgets: fields.budgets,
          tag: fields.tag,
          expires_at: expiresAt?.toISOString() ?? null,
        });
        return created;
      });
      return { key: keyMessage(row, svc.now()), secret: secret.secret };
    },

    async getKey(req) {
      checkRequired("id", req.id);
      const row = await getKey(svc.db, req.id);
      if (!row) throw notFound("key", req.id);
      return { key: keyMessage(row, svc.now()) };
    },

    async listKeys(req) {
      const limit = pageSize(req.pageSize);
      const after = decodeIdToken("keys", req.pageToken);
      const page = await listKeys(svc.db, {
        limit,
        ...(after !== undefined ? { after } : {}),
        ...(req.instanceId ? { instanceId: req.instanceId } : {}),
        includeRevoked: req.includeRevoked,
      });
      const now = svc.now();
      return {
        keys: page.rows.map((r) => keyMessage(r, now)),
        nextPageToken: encodeIdToken("keys", page.next),
      };
    },

    async updateKey(req, ctx) {
      const k = req.key;
      if (!k) throw invalid("key", "is required");
      const id = checkRequired("key.id", k.id);
      const paths = maskPaths(req.updateMask, UPDATE_PATHS);
      const patch: Partial<KeyPolicyFields> = {};
      if (paths.has("display_name")) patch.displayName = checkText("key.display_name", k.displayName);
      if (paths.has("allowed_models"))
        patch.allowedModels = checkStringList("key.allowed_models", k.allowedModels);
      if (paths.has("source_cidrs")) patch.sourceCidrs = checkCidrs("key.source_cidrs", k.sourceCidrs);
      if (paths.has("rate_limit")) patch.rateLimit = toRateLimitJson("key.rate_limit", k.rateLimit);
      if (paths.has("budgets")) patch.budgets = toBudgetsJson("key.budgets", k.budgets);
      if (paths.has("tag")) patch.tag = checkText("key.tag", k.tag, 64);
      // An unset expires_at in the mask clears the expiry.
      if (paths.has("expires_at")) patch.expiresAt = k.expiresAt ? timestampDate(k.expiresAt) : null;
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        const current = await getKey(trx, id);
        if (!current) throw notFound("key", id);
        const updated = await updateKey(trx, id, patch, now);
        if (!updated) throw notFound("key", id);
        const { expiresAt, ...rest } = patch;
        const details = {
          paths: [...paths],
          ...rest,
          ...(expiresAt !== undefined ? { expires_at: expiresAt?.toISOString() ?? null } : {}),
        };
        await audit("key.update", `keys/${id}`, details);
        if ([...paths].some((p) => LIMIT_PATHS.includes(p))) {
          await audit("limits.update", `keys/${id}`, {
            before: {
              allowed_models: current.allowed_models,
              source_cidrs: current.source_cidrs,
              rate_limit: current.rate_limit,
              budgets: current.budgets,
            },
            after: {
              allowed_models: updated.allowed_models,
              source_cidrs: updated.source_cidrs,
              rate_limit: updated.rate_limit,
              budgets: updated.budgets,
            },
          });
        }
        return updated;
      });
      return { key: keyMessage(row, svc.now()) };
    },

    async revokeKey(req, ctx) {
      checkRequired("id", req.id);
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        const current = await getKey(trx, req.id);
        if (!current) throw notFound("key", req.id);
        if (current.revoked_at) throw failedPrecondition(`key ${JSON.stringify(req.id)} is already revoked`);
        const revoked = await revokeKey(trx, req.id, now);
        if (!revoked) throw failedPrecondition(`key ${JSON.stringify(req.id)} is already revoked`);
        await audit("key.revoke", `keys/${req.id}`, {
          instance_id: current.instance_id,
          prefix: current.prefix,
        });
        return revoked;
      });
      return { key: keyMessage(row, svc.now()) };
    },

    async rotateKey(req, ctx) {
      checkRequired("id", req.id);
      const graceMs = req.gracePeriod ? durationMs(req.gracePeriod) : 0;
      if (!Number.isFinite(graceMs) || graceMs < 0) throw invalid("grace_period", "must not be negative");
      if (graceMs > MAX_GRACE_MS) throw invalid("grace_period", "must be at most 30 days");
      const secret = generateVirtualKey();
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        const current = await getKey(trx, req.id);
        if (!current) throw notFound("key", req.id);
        if (current.revoked_at) throw failedPrecondition(`key ${JSON.stringify(req.id)} is revoked`);
        if (current.expires_at && current.expires_at <= now) {
          throw failedPrecondition(`key ${JSON.stringify(req.id)} has expired`);
        }
        const previousExpiresAt = graceMs > 0 ? new Date(now.getTime() + graceMs) : null;
        const rotated = await rotateKey(
          trx,
          req.id,
          { secretHash: secret.hash, prefix: secret.prefix, previousExpiresAt },
          now,
        );
        if (!rotated) throw failedPrecondition(`key ${JSON.stringify(req.id)} is revoked`);
        await audit("key.rotate", `keys/${req.id}`, {
          instance_id: current.instance_id,
          old_prefix: current.prefix,
          new_prefix: secret.prefix,
          grace_seconds: graceMs / 1000,
        });
        return rotated;
      });
      return { key: keyMessage(row, svc.now()), secret: secret.secret };
    },

    async deleteKey(req, ctx) {
      checkRequired("id", req.id);
      await mutate(svc, ctx, async (trx, audit) => {
        const current = await getKey(trx, req.id);
        if (!current || !(await deleteKey(trx, req.id))) throw notFound("key", req.id);
        await audit("key.delete", `keys/${req.id}`, {
          instance_id: current.instance_id,
          prefix: current.prefix,
        });
      });
      return {};
    },
  };
}
