// Admin roles on a running gateway, with tokens from the config file (through the real config
// loader) and from CreateAdminToken: a viewer reads everything an operator needs to see and
// changes nothing; an operator runs instances and keys but not providers or admin tokens; an
// admin does everything; a deleted API token is refused on its very next call.
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminRole, AdminService, createAdminClient, type AdminClient } from "../../sdk/index.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import type { TestDatabase } from "../helpers/pg.js";
import { chat, follow, freshDatabase, instanceWithKey, waitFor, waitForWatchers } from "./harness.js";

const TOKENS = {
  viewer: `kg_admin_dash_${randomBytes(16).toString("hex")}`,
  operator: `kg_admin_ops_${randomBytes(16).toString("hex")}`,
  admin: `kg_admin_boss_${randomBytes(16).toString("hex")}`,
};

let db: TestDatabase;
let gw: TestGateway;
const client = (token: string): AdminClient => createAdminClient({ baseUrl: gw.url, token });

/** What the role tests act on, made by the bootstrap admin. */
const fx = {
  instanceId: "",
  keyId: "",
  keySecret: "",
  requestId: "",
  provider: "api-prov",
  spareProvider: "api-prov-spare",
  routeId: "",
  alias: "fixture-alias",
  apiToken: "spare",
  apiTokenSecret: "",
};

/** The code a call fails with, or "ok". */
async function outcome(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/** RPCs a viewer may call, each with a request that succeeds. */
function reads(c: AdminClient): Record<string, () => Promise<unknown>> {
  return {
    GetInstance: () => c.getInstance({ id: fx.instanceId }),
    ListInstances: () => c.listInstances({}),
    GetKey: () => c.getKey({ id: fx.keyId }),
    ListKeys: () => c.listKeys({ instanceId: fx.instanceId }),
    GetProvider: () => c.getProvider({ id: fx.provider }),
    ListProviders: () => c.listProviders({}),
    QueryUsage: () => c.queryUsage({}),
    ListRequests: () => c.listRequests({}),
    GetRequest: () => c.getRequest({ id: fx.requestId }),
    GetLimitStatus: () => c.getLimitStatus({ instanceId: fx.instanceId }),
    ListRoutes: () => c.listRoutes({}),
    ListAliases: () => c.listAliases({}),
    ListAuditEvents: () => c.listAuditEvents({}),
    GetStatus: () => c.getStatus({}),
  };
}

/** Every other unary RPC, each with a request that would succeed for an admin. */
function mutations(c: AdminClient): Record<string, () => Promise<unknown>> {
  return {
    CreateInstance: () => c.createInstance({ instanceId: "made-by-a-lesser-role" }),
    UpdateInstance: () =>
      c.updateInstance({
        instance: { id: fx.instanceId, displayName: "changed" },
        updateMask: { paths: ["display_name"] },
      }),
    DeleteInstance: () => c.deleteInstance({ id: fx.instanceId }),
    CreateKey: () => c.createKey({ instanceId: fx.instanceId }),
    UpdateKey: () =>
      c.updateKey({ key: { id: fx.keyId, displayName: "changed" }, updateMask: { paths: ["display_name"] } }),
    RevokeKey: () => c.revokeKey({ id: fx.keyId }),
    RotateKey: () => c.rotateKey({ id: fx.keyId }),
    DeleteKey: () => c.deleteKey({ id: fx.keyId }),
    ProbeProviders: () => c.probeProviders({}),
    CreateRoute: () =>
      c.createRoute({ route: { priority: 9, match: { model: "x-*" }, providerId: fx.provider } }),
    DeleteRoute: () => c.deleteRoute({ id: fx.routeId }),
    SetAlias: () =>
      c.setAlias({ alias: { name: "lesser-alias", targets: [{ providerId: fx.provider, model: "m" }] } }),
    DeleteAlias: () => c.deleteAlias({ name: fx.alias }),
    CreateProvider: () =>
      c.createProvider({
        providerId: "lesser-prov",
        provider: {
          type: "openai-compatible",
          baseUrl: "http://127.0.0.1:9/v1",
          credential: "sk-lesser-000000000000",
        },
      }),
    UpdateProvider: () =>
      c.updateProvider({
        provider: { id: fx.provider, credential: "sk-replaced-0000000000" },
        updateMask: { paths: ["credential"] },
      }),
    DeleteProvider: () => c.deleteProvider({ id: fx.spareProvider }),
    CreateAdminToken: () => c.createAdminToken({ name: "lesser-token", role: AdminRole.ADMIN }),
    ListAdminTokens: () => c.listAdminTokens({}),
    DeleteAdminToken: () => c.deleteAdminToken({ name: fx.apiToken }),
  };
}

/** Everything the fixture consists of, as the bootstrap admin sees it. */
async function snapshot(): Promise<string> {
  const a = gw.admin;
  const [instances, keys, providers, routes, aliases, tokens] = await Promise.all([
    a.listInstances({}),
    a.listKeys({ includeRevoked: true }),
    a.listProviders({}),
    a.listRoutes({}),
    a.listAliases({}),
    a.listAdminTokens({}),
  ]);
  return JSON.stringify(
    {
      instances: instances.instances.map((i) => [i.id, i.displayName, i.disabled]),
      keys: keys.keys.map((k) => [k.id, k.displayName, k.prefix, k.revokedAt !== undefined]),
      providers: providers.providers.map((p) => [p.id, p.credentialFingerprint]),
      routes: routes.routes.map((r) => r.id),
      aliases: aliases.aliases.map((x) => x.name),
      tokens: tokens.tokens.map((t) => t.name),
    },
    (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
  );
}

beforeAll(async () => {
  db = await freshDatabase("kg_ops_roles");
  gw = await startTestGateway({
    databaseUrl: db.url,
    config: {
      providers: { echo: { type: "echo", models: ["echo-1"], default: true } },
      admin: {
        tokens: [
          { name: "dash", token: TOKENS.viewer, role: "viewer" },
          { name: "ops", token: TOKENS.operator, role: "operator" },
          { name: "boss", token: TOKENS.admin, role: "admin" },
        ],
      },
    },
  });
  const a = gw.admin;
  const k = await instanceWithKey(a, { prefix: "fixture" });
  Object.assign(fx, { instanceId: k.instanceId, keyId: k.keyId, keySecret: k.secret });
  for (const id of [fx.provider, fx.spareProvider]) {
    await a.createProvider({
      providerId: id,
      provider: {
        type: "openai-compatible",
        baseUrl: "http://127.0.0.1:9/v1",
        credential: `sk-${id}-0000000000000`,
      },
    });
  }
  fx.routeId =
    (await a.createRoute({ route: { priority: 1, match: { model: "fx-*" }, providerId: fx.provider } })).route
      ?.id ?? "";
  await a.setAlias({ alias: { name: fx.alias, targets: [{ providerId: fx.provider, model: "m" }] } });
  fx.apiTokenSecret = (await a.createAdminToken({ name: fx.apiToken, role: AdminRole.VIEWER })).secret;
  const r = await chat(gw.url, fx.keySecret, "echo-1", "a request to read back");
  fx.requestId = r.id;
  await waitFor(
    "the fixture request's record",
    async () => (await a.getRequest({ id: fx.requestId }).catch(() => undefined))?.request,
  );
});
afterAll(async () => {
  await gw?.close();
  await db?.drop();
});

describe("roles", () => {
  it("every unary RPC is classified here, so a new one cannot slip past these tests", () => {
    const known = new Set([...Object.keys(reads(gw.admin)), ...Object.keys(mutations(gw.admin))]);
    const unary = AdminService.methods.filter((m) => m.methodKind === "unary").map((m) => m.name);
    expect(unary.filter((n) => !known.has(n))).toEqual([]);
    expect([...known].filter((n) => !unary.includes(n))).toEqual([]);
  });

  it("a viewer (config token) reads everything, watches the feed, and is refused every change", async () => {
    const v = client(TOKENS.viewer);
    for (const [name, call] of Object.entries(reads(v))) expect(await outcome(call()), name).toBe("ok");
    const status = await v.getStatus({});
    expect([status.callerName, status.callerRole]).toEqual(["dash", AdminRole.VIEWER]);

    const feed = follow(v, { filter: { instanceIds: [fx.instanceId] } });
    try {
      await waitForWatchers(gw.url, 1);
      const r = await chat(gw.url, fx.keySecret, "echo-1", "seen by the viewer");
      expect((await feed.until(r.id)).map((x) => x.id)).toContain(r.id);
    } finally {
      feed.stop();
      await waitForWatchers(gw.url, 0);
    }

    const before = await snapshot();
    for (const [name, call] of Object.entries(mutations(v))) {
      try {
        await call();
        throw new Error(`${name} succeeded for a viewer`);
      } catch (err) {
        const e = ConnectError.from(err);
        expect(e.code, `${name}: ${e.rawMessage}`).toBe(Code.PermissionDenied);
        expect(e.rawMessage).toBe(`role viewer may not call ${name}`);
      }
    }
    expect(await snapshot()).toBe(before);
    expect((await chat(gw.url, fx.keySecret, "echo-1", "still works")).status).toBe(200);
    expect((await gw.admin.listAuditEvents({ actor: "dash" })).events).toEqual([]);
  });

  it("an operator (config token) manages instances and keys, and is refused providers and admin tokens", async () => {
    const o = client(TOKENS.operator);
    const inst = `op-${randomBytes(3).toString("hex")}`;
    await o.createInstance({ instanceId: inst });
    await o.updateInstance({ instance: { id: inst, disabled: true }, updateMask: { paths: ["disabled"] } });
    const { key, secret } = await o.createKey({ instanceId: inst });
    const keyId = key?.id ?? "";
    expect(secret).toMatch(/^kg_live_/);
    await o.updateKey({
      key: { id: keyId, rateLimit: { requestsPerMinute: 5n } },
      updateMask: { paths: ["rate_limit"] },
    });
    await o.rotateKey({ id: keyId });
    await o.revokeKey({ id: keyId });
    await o.deleteKey({ id: keyId });
    await o.deleteInstance({ id: inst });
    // Attributed to the operator (the exact event list is test/ops/audit.test.ts's subject).
    const events = (await gw.admin.listAuditEvents({ actor: "ops" })).events;
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        "instance.delete",
        "key.delete",
        "key.revoke",
        "key.rotate",
        "key.update",
        "key.create",
        "instance.update",
        "instance.create",
      ]),
    );
    expect(events.every((e) => e.actorRole === AdminRole.OPERATOR)).toBe(true);

    const before = await snapshot();
    const all = mutations(o);
    for (const name of [
      "CreateProvider",
      "UpdateProvider",
      "DeleteProvider",
      "CreateAdminToken",
      "ListAdminTokens",
      "DeleteAdminToken",
    ]) {
      expect(await outcome(all[name]!()), name).toBe(Code.PermissionDenied);
    }
    expect(await snapshot()).toBe(before);
    // The token the operator tried to delete still works.
    expect((await client(fx.apiTokenSecret).getStatus({})).callerName).toBe(fx.apiToken);
  });

  it("an admin (config token) can do everything, including making another admin", async () => {
    const b = client(TOKENS.admin);
    for (const [name, call] of Object.entries(reads(b))) expect(await outcome(call()), name).toBe("ok");
    await b.createProvider({
      providerId: "boss-prov",
      provider: {
        type: "openai-compatible",
        baseUrl: "http://127.0.0.1:9/v1",
        credential: "sk-boss-000000000000",
      },
    });
    await b.updateProvider({ provider: { id: "boss-prov", weight: 3 }, updateMask: { paths: ["weight"] } });
    const made = await b.createAdminToken({ name: "boss-made", role: AdminRole.ADMIN });
    const second = client(made.secret);
    expect((await second.getStatus({})).callerRole).toBe(AdminRole.ADMIN);
    expect((await second.listAdminTokens({})).tokens.map((t) => t.name)).toContain("boss-made");
    await second.deleteProvider({ id: "boss-prov" });
    await b.deleteAdminToken({ name: "boss-made" });
    expect(await outcome(second.getStatus({}))).toBe(Code.Unauthenticated);
    const actions = (await gw.admin.listAuditEvents({ actor: "boss" })).events.map((e) => e.action);
    expect(actions).toEqual([
      "admin_token.delete",
      "admin_token.create",
      "provider.update",
      "provider.create",
    ]);
  });

  it("API tokens carry their role, and a deleted one is refused on its very next call", async () => {
    const a = gw.admin;
    const viewer = await a.createAdminToken({ name: "api-viewer", role: AdminRole.VIEWER });
    const operator = await a.createAdminToken({ name: "api-operator", role: AdminRole.OPERATOR });
    const v = client(viewer.secret);
    const o = client(operator.secret);
    expect(await outcome(v.listInstances({}))).toBe("ok");
    expect(await outcome(v.createInstance({ instanceId: "api-viewer-made" }))).toBe(Code.PermissionDenied);
    expect(await outcome(o.createInstance({ instanceId: "api-operator-made" }))).toBe("ok");
    expect(await outcome(o.createProvider({ providerId: "x", provider: { type: "echo" } }))).toBe(
      Code.PermissionDenied,
    );

    for (const [name, c] of [
      ["api-viewer", v],
      ["api-operator", o],
    ] as const) {
      expect(await outcome(c.getStatus({}))).toBe("ok");
      await a.deleteAdminToken({ name });
      expect(await outcome(c.getStatus({})), `${name} after deletion`).toBe(Code.Unauthenticated);
      expect(await outcome(c.listInstances({}))).toBe(Code.Unauthenticated);
    }
    await a.deleteInstance({ id: "api-operator-made" });
  });
});
