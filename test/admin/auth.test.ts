// Admin API authentication and roles over real HTTP; every RPC is implemented and guarded.
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../sdk/gen/keygate/v1/admin_service_pb.js";
import { AdminRole } from "../../sdk/gen/keygate/v1/audit_pb.js";
import { insertUsageBatch } from "../../server/src/store/usage.js";
import { BACKENDS, startAdminServer, type AdminServer } from "../helpers/admin-server.js";
import { failure, toJson } from "./rpc-util.js";
import { usageRecord } from "../helpers/records.js";

const VIEWER = "kg_admin_viewer-token-for-tests-0000000000000001";
const OPERATOR = "kg_admin_operator-token-for-tests-000000000000002";

describe.each(BACKENDS)("admin auth on %s", (backend) => {
  let srv: AdminServer;
  beforeAll(async () => {
    srv = await startAdminServer({
      backend,
      config: {
        admin: {
          tokens: [
            { name: "dash", token: VIEWER, role: "viewer" },
            { name: "ops", token: OPERATOR, role: "operator" },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("refuses calls without a valid bearer token, never echoing it", async () => {
    const anon = createClient(AdminService, createConnectTransport({ baseUrl: srv.baseUrl }));
    const none = await failure(anon.getStatus({}));
    expect(none.code).toBe(Code.Unauthenticated);
    const wrongToken = `${srv.adminToken}x`;
    const wrong = await failure(srv.client(wrongToken).listInstances({}));
    expect(wrong.code).toBe(Code.Unauthenticated);
    expect(wrong.message).not.toContain(wrongToken);
    expect(wrong.message).not.toContain(srv.adminToken.slice(10));
    const basic = createClient(
      AdminService,
      createConnectTransport({
        baseUrl: srv.baseUrl,
        interceptors: [
          (next) => (req) => (req.header.set("authorization", `Basic ${srv.adminToken}`), next(req)),
        ],
      }),
    );
    expect((await failure(basic.getStatus({}))).code).toBe(Code.Unauthenticated);
  });

  it("reports the caller's role and name", async () => {
    const admin = await srv.client().getStatus({});
    expect(admin.callerRole).toBe(AdminRole.ADMIN);
    expect(admin.callerName).toBe("admin");
    expect(admin.replicaId).toBe("test-replica");
    expect(admin.database?.kind).toBe(backend);
    const viewer = await srv.client(VIEWER).getStatus({});
    expect(viewer.callerRole).toBe(AdminRole.VIEWER);
    expect(viewer.callerName).toBe("dash");
  });

  it("lets viewers read only", async () => {
    const v = srv.client(VIEWER);
    await srv.client().createInstance({ instanceId: "seen" });
    expect((await v.listInstances({})).instances.map((i) => i.id)).toContain("seen");
    await v.listProviders({});
    await v.listAuditEvents({});
    for (const call of [
      v.createInstance({ instanceId: "nope" }),
      v.deleteInstance({ id: "seen" }),
      v.createKey({ instanceId: "seen" }),
      v.setAlias({ alias: { name: "a", targets: [] } }),
      v.listAdminTokens({}),
      v.probeProviders({}),
    ]) {
      const f = await failure(call);
      expect(f.code).toBe(Code.PermissionDenied);
      expect(f.message).toMatch(/^role viewer may not call /);
    }
  });

  it("lets operators manage instances and keys but not providers or admin tokens", async () => {
    const o = srv.client(OPERATOR);
    await o.createInstance({ instanceId: "ops-made" });
    const { key } = await o.createKey({ instanceId: "ops-made" });
    await o.revokeKey({ id: key?.id ?? "" });
    for (const call of [
      o.createProvider({ providerId: "x", provider: { type: "echo" } }),
      o.updateProvider({ provider: { id: "x" } }),
      o.deleteProvider({ id: "x" }),
      o.createAdminToken({ name: "x", role: AdminRole.VIEWER }),
      o.listAdminTokens({}),
      o.deleteAdminToken({ name: "x" }),
    ]) {
      expect((await failure(call)).code).toBe(Code.PermissionDenied);
    }
    const events = await o.listAuditEvents({ actor: "ops" });
    expect(events.events.map((e) => e.action)).toEqual(["key.revoke", "key.create", "instance.create"]);
    expect(events.events.every((e) => e.actorRole === AdminRole.OPERATOR)).toBe(true);
  });

  it("shows captured bodies to admins only", async () => {
    const now = new Date();
    await insertUsageBatch(srv.db, [
      usageRecord({
        id: "req-captured",
        time: now,
        instanceId: "seen",
        keyId: "k",
        latencyMs: 5,
        capture: { requestBody: "PROMPT-BODY", responseBody: "ANSWER-BODY", truncated: false },
      }),
    ]);
    const admin = await srv.client().getRequest({ id: "req-captured" });
    expect(admin.request?.capture?.requestBody).toBe("PROMPT-BODY");
    expect(admin.request?.capture?.responseBody).toBe("ANSWER-BODY");
    for (const token of [OPERATOR, VIEWER]) {
      const res = await srv.client(token).getRequest({ id: "req-captured" });
      expect(res.request?.id).toBe("req-captured");
      expect(res.request?.capture).toBeUndefined();
    }
  });

  it("manages API admin tokens: secret once, usable at once, refused after deletion", async () => {
    const c = srv.client();
    const created = await c.createAdminToken({ name: "ci", role: AdminRole.OPERATOR });
    expect(created.secret).toMatch(/^kg_admin_/);
    expect(created.token?.prefix).toBe(created.secret.slice(0, 12));
    expect(created.token?.source).toBe("api");
    const ci = srv.client(created.secret);
    expect((await ci.getStatus({})).callerName).toBe("ci");
    await ci.createInstance({ instanceId: "by-ci" });
    expect((await failure(ci.listAdminTokens({}))).code).toBe(Code.PermissionDenied);

    const listed = await c.listAdminTokens({});
    expect(listed.tokens.map((t) => [t.name, t.source])).toEqual([
      ["admin", "bootstrap"],
      ["dash", "config"],
      ["ops", "config"],
      ["ci", "api"],
    ]);
    const text = JSON.stringify(listed.tokens.map((t) => t.prefix));
    for (const secret of [created.secret, srv.adminToken, VIEWER, OPERATOR])
      expect(text).not.toContain(secret);

    expect((await failure(c.createAdminToken({ name: "ci", role: AdminRole.VIEWER }))).code).toBe(
      Code.AlreadyExists,
    );
    expect((await failure(c.createAdminToken({ name: "dash", role: AdminRole.VIEWER }))).code).toBe(
      Code.AlreadyExists,
    );
    expect((await failure(c.createAdminToken({ name: "x", role: AdminRole.UNSPECIFIED }))).message).toMatch(
      /^role: /,
    );
    expect((await failure(c.deleteAdminToken({ name: "ops" }))).code).toBe(Code.FailedPrecondition);
    expect((await failure(c.deleteAdminToken({ name: "ghost" }))).code).toBe(Code.NotFound);

    await c.deleteAdminToken({ name: "ci" });
    expect((await failure(ci.getStatus({}))).code).toBe(Code.Unauthenticated);
    const audit = await c.listAuditEvents({ action: "admin_token." });
    expect(audit.events.map((e) => e.action)).toEqual(["admin_token.delete", "admin_token.create"]);
    expect(toJson(audit.events)).not.toContain(created.secret);
  });

  it("implements every RPC and guards each one", async () => {
    const anon = createClient(AdminService, createConnectTransport({ baseUrl: srv.baseUrl }));
    const admin = srv.client();
    for (const method of AdminService.methods) {
      if (method.methodKind !== "unary") continue;
      const name = method.localName as keyof typeof admin;
      const call = admin[name] as (req: object) => Promise<unknown>;
      const anonCall = anon[name] as (req: object) => Promise<unknown>;
      expect((await failure(anonCall({}))).code, method.name).toBe(Code.Unauthenticated);
      try {
        await call({});
      } catch (err) {
        const code = (err as { code?: Code }).code;
        expect([Code.Unimplemented, Code.Internal, Code.Unknown], method.name).not.toContain(code);
      }
    }
  });
});
