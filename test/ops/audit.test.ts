// The audit log as an operator reads it: every admin action on a running gateway leaves one
// event naming the token that acted, its role, the action, the resource and the client address,
// with no secret in it; readable through ListAuditEvents (filtered) and `gwctl audit`.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AdminRole,
  CaptureMode,
  createAdminClient,
  type AdminClient,
  type AuditEvent,
} from "../../sdk/index.js";
import { buildBinaries, gwctl } from "../cli/harness.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import type { TestDatabase } from "../helpers/pg.js";
import { at, dump, freshDatabase, gwctlTarget } from "./harness.js";

const ROOT_TOKEN = `kg_admin_root_${randomBytes(16).toString("hex")}`;
const OPS_TOKEN = `kg_admin_ops_${randomBytes(16).toString("hex")}`;

let db: TestDatabase;
let gw: TestGateway;
let root: AdminClient;
let ops: AdminClient;
/** Every secret value the actions below handled; none may appear in the audit log. */
const secrets: string[] = [ROOT_TOKEN, OPS_TOKEN];
/** The (action, resource) pairs root's actions must have produced, oldest first. */
const expected: [string, string][] = [];

async function allEvents(
  client: AdminClient,
  filter: { actor?: string; action?: string } = {},
): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let pageToken = "";
  do {
    const page = await client.listAuditEvents({ ...filter, pageSize: 7, pageToken });
    out.push(...page.events);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

/** Fails if any 13 consecutive characters of a secret appear (a prefix of 12 may be shown). */
function expectNoSecrets(text: string, where: string): void {
  for (const s of secrets) {
    for (let i = 0; i + 13 <= s.length; i++) {
      const piece = s.slice(i, i + 13);
      if (text.includes(piece)) throw new Error(`${where} holds part of a secret: …${piece}…`);
    }
  }
}

beforeAll(async () => {
  db = await freshDatabase("kg_ops_audit");
  gw = await startTestGateway({
    databaseUrl: db.url,
    config: {
      admin: {
        tokens: [
          { name: "root", token: ROOT_TOKEN, role: "admin" },
          { name: "ops", token: OPS_TOKEN, role: "operator" },
        ],
      },
    },
  });
  root = createAdminClient({ baseUrl: gw.url, token: ROOT_TOKEN });
  ops = createAdminClient({ baseUrl: gw.url, token: OPS_TOKEN });

  // Every kind of admin action, as root, each followed by the event it must leave.
  const suffix = randomBytes(3).toString("hex");
  const inst = `aud-${suffix}`;
  await root.createInstance({ instanceId: inst });
  expected.push(["instance.create", `instances/${inst}`]);
  await root.updateInstance({
    instance: { id: inst, displayName: "Audited agent", captureMode: CaptureMode.METADATA },
    updateMask: { paths: ["display_name", "capture_mode"] },
  });
  expected.push(["instance.update", `instances/${inst}`]);

  const made = await root.createKey({ instanceId: inst, displayName: "k" });
  const keyId = made.key?.id ?? "";
  secrets.push(made.secret);
  expected.push(["key.create", `keys/${keyId}`]);
  await root.updateKey({
    key: { id: keyId, rateLimit: { requestsPerMinute: 7n } },
    updateMask: { paths: ["rate_limit"] },
  });
  expected.push(["key.update", `keys/${keyId}`], ["limits.update", `keys/${keyId}`]);
  const rotated = await root.rotateKey({ id: keyId });
  secrets.push(rotated.secret);
  expected.push(["key.rotate", `keys/${keyId}`]);
  await root.revokeKey({ id: keyId });
  expected.push(["key.revoke", `keys/${keyId}`]);
  await root.deleteKey({ id: keyId });
  expected.push(["key.delete", `keys/${keyId}`]);

  const prov = `aud-prov-${suffix}`;
  const cred1 = `sk-SENTINEL-audit-${randomBytes(20).toString("hex")}`;
  const cred2 = `sk-SENTINEL-audit-${randomBytes(20).toString("hex")}`;
  secrets.push(cred1, cred2);
  await root.createProvider({
    providerId: prov,
    provider: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", credential: cred1, models: ["aud-model"] },
  });
  expected.push(["provider.create", `providers/${prov}`]);
  await root.updateProvider({
    provider: { id: prov, credential: cred2 },
    updateMask: { paths: ["credential"] },
  });
  expected.push(["provider.update", `providers/${prov}`]);
  const route = await root.createRoute({
    route: { priority: 3, match: { model: "aud-*" }, providerId: prov },
  });
  const routeId = route.route?.id ?? "";
  expected.push(["route.create", `routes/${routeId}`]);
  await root.setAlias({
    alias: { name: `aud-alias-${suffix}`, targets: [{ providerId: prov, model: "aud-model" }] },
  });
  expected.push(["alias.set", `aliases/aud-alias-${suffix}`]);
  await root.deleteRoute({ id: routeId });
  expected.push(["route.delete", `routes/${routeId}`]);
  await root.deleteAlias({ name: `aud-alias-${suffix}` });
  expected.push(["alias.delete", `aliases/aud-alias-${suffix}`]);
  await root.deleteProvider({ id: prov });
  expected.push(["provider.delete", `providers/${prov}`]);

  const token = await root.createAdminToken({ name: `aud-token-${suffix}`, role: AdminRole.VIEWER });
  secrets.push(token.secret);
  expected.push(["admin_token.create", `admin_tokens/aud-token-${suffix}`]);
  await root.deleteAdminToken({ name: `aud-token-${suffix}` });
  expected.push(["admin_token.delete", `admin_tokens/aud-token-${suffix}`]);

  await root.deleteInstance({ id: inst });
  expected.push(["instance.delete", `instances/${inst}`]);

  // An operator's actions are attributed to the operator.
  await ops.createInstance({ instanceId: `aud-op-${suffix}` });
  await ops.deleteInstance({ id: `aud-op-${suffix}` });
  await buildBinaries();
});
afterAll(async () => {
  await gw?.close();
  await db?.drop();
});

describe("audit events", () => {
  it("every admin action leaves one event with actor, role, action, resource and client IP", async () => {
    const events = (await allEvents(root, { actor: "root" })).reverse();
    expect(events.map((e) => [e.action, e.resource])).toEqual(expected);
    for (const e of events) {
      expect(e.id).not.toBe("");
      expect(e.time).toBeDefined();
      expect(e.actor).toBe("root");
      expect(e.actorRole).toBe(AdminRole.ADMIN);
      expect(e.clientIp).toBe("127.0.0.1");
      expect(typeof JSON.parse(e.detailsJson)).toBe("object");
    }
    const details = (action: string): unknown =>
      JSON.parse(events.find((e) => e.action === action)?.detailsJson ?? "null");
    // What changed is there, in the clear where it is not secret.
    expect(at(details("provider.update"), "credential_set")).toBe(true);
    expect(at(details("provider.update"), "paths")).toEqual(["credential"]);
    expect(dump(at(details("limits.update"), "after"))).toContain("7");
    expect(at(details("instance.update"), "paths")).toEqual(["display_name", "capture_mode"]);
  });

  it("holds no secret value: not the credentials, key secrets, or admin tokens", async () => {
    const everything = await allEvents(root);
    expect(everything.length).toBeGreaterThanOrEqual(expected.length + 2);
    expect(secrets).toHaveLength(7);
    for (const e of everything) expectNoSecrets(dump(e), `audit event ${e.action} ${e.resource}`);
  });

  it("filters by actor and by action prefix, newest first", async () => {
    const byOps = await allEvents(root, { actor: "ops" });
    expect(byOps.map((e) => e.action)).toEqual(["instance.delete", "instance.create"]);
    expect(byOps.every((e) => e.actorRole === AdminRole.OPERATOR && e.clientIp === "127.0.0.1")).toBe(true);

    const keyEvents = await allEvents(root, { action: "key." });
    expect(keyEvents.map((e) => e.action)).toEqual([
      "key.delete",
      "key.revoke",
      "key.rotate",
      "key.update",
      "key.create",
    ]);
    const providers = await allEvents(root, { actor: "root", action: "provider." });
    expect(providers.map((e) => e.action)).toEqual(["provider.delete", "provider.update", "provider.create"]);
    expect(await allEvents(root, { actor: "nobody" })).toEqual([]);
    expect(await allEvents(root, { action: "key.rotate" })).toHaveLength(1);
  });

  it("gwctl audit --output json shows the same events, and no secret", async () => {
    const target = gwctlTarget(gw.url, ROOT_TOKEN);
    const r = await gwctl(target, ["audit", "--actor", "root", "--action", "provider.", "--output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const shown = at(JSON.parse(r.stdout) as unknown, "events");
    if (!Array.isArray(shown)) throw new Error(`no events array in ${r.stdout}`);
    const api = await allEvents(root, { actor: "root", action: "provider." });
    expect(shown.map((e) => at(e, "id"))).toEqual(api.map((e) => e.id));
    expect(
      shown.map((e) => [at(e, "actor"), at(e, "actorRole"), at(e, "action"), at(e, "clientIp")]),
    ).toEqual(api.map((e) => ["root", "ADMIN_ROLE_ADMIN", e.action, "127.0.0.1"]));

    const all = await gwctl(target, ["audit", "--limit", "500", "--output", "json"]);
    expect(all.code, all.stderr).toBe(0);
    const events = at(JSON.parse(all.stdout) as unknown, "events");
    expect(Array.isArray(events) && events.length).toBe((await allEvents(root)).length);
    expectNoSecrets(all.stdout + all.stderr, "gwctl audit output");
  });
});
