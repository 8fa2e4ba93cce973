// Virtual keys over real HTTP: secrets shown once, revoke, rotate with a grace period (injected
// clock), updates, pagination and validation; on PGlite and Postgres.
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyState } from "../../sdk/gen/keygate/v1/key_pb.js";
import { BudgetWindow } from "../../sdk/gen/keygate/v1/policy_pb.js";
import { hashKey } from "../../server/src/secrets/virtual-key.js";
import { findKeyForAuth } from "../../server/src/store/keys.js";
import { BACKENDS, startAdminServer, type AdminServer } from "../helpers/admin-server.js";
import { failure, recordingClient } from "./rpc-util.js";

const HOUR = 3_600_000;

describe.each(BACKENDS)("keys on %s", (backend) => {
  let srv: AdminServer;
  let now = Date.now();
  const clock = () => new Date(now);
  beforeAll(async () => {
    srv = await startAdminServer({ backend, clock });
    await srv.client().createInstance({ instanceId: "agent" });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("shows the secret once and stores only its hash", async () => {
    const { client, settled } = recordingClient(srv.baseUrl, srv.adminToken);
    const res = await client.createKey({
      instanceId: "agent",
      displayName: "laptop",
      allowedModels: ["gpt-4o"],
      sourceCidrs: ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"],
      rateLimit: { requestsPerMinute: 30n },
      budgets: [{ window: BudgetWindow.MONTHLY, limitUsd: 20 }],
      tag: "fast",
      ttl: durationFromMs(HOUR),
    });
    expect(res.secret).toMatch(/^kg_live_[A-Za-z0-9_-]{43}$/);
    const key = res.key;
    expect(key?.prefix).toBe(res.secret.slice(0, 12));
    expect(key?.state).toBe(KeyState.ACTIVE);
    expect(key?.instanceId).toBe("agent");
    expect(key?.sourceCidrs).toEqual(["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"]);
    expect(Number(key?.expiresAt?.seconds)).toBe(Math.floor((now + HOUR) / 1000));

    const row = await srv.db
      .selectFrom("virtual_keys")
      .selectAll()
      .where("id", "=", key?.id ?? "")
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(hashKey(res.secret));
    expect(JSON.stringify(row)).not.toContain(res.secret);
    const auth = await findKeyForAuth(srv.db, hashKey(res.secret), clock());
    expect(auth?.key.id).toBe(key?.id);
    expect(auth?.instance.id).toBe("agent");

    await client.getKey({ id: key?.id ?? "" });
    await client.listKeys({ instanceId: "agent" });
    await client.listAuditEvents({});
    // Only the CreateKey response carries the secret.
    const bodies = await settled();
    expect(bodies).toHaveLength(4);
    expect(bodies.filter((b) => b.includes(res.secret))).toHaveLength(1);
    const audits = await srv.db.selectFrom("audit_events").selectAll().execute();
    expect(JSON.stringify(audits)).not.toContain(res.secret);
  });

  it("revokes once and refuses to revoke or rotate a revoked key", async () => {
    const c = srv.client();
    const { key, secret } = await c.createKey({ instanceId: "agent" });
    const id = key?.id ?? "";
    const revoked = await c.revokeKey({ id });
    expect(revoked.key?.state).toBe(KeyState.REVOKED);
    expect(revoked.key?.revokedAt).toBeDefined();
    const again = await failure(c.revokeKey({ id }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect((await failure(c.rotateKey({ id }))).code).toBe(Code.FailedPrecondition);
    expect((await failure(c.revokeKey({ id: "key_nope" }))).code).toBe(Code.NotFound);
    // The row is still found (the hot path reports "revoked"), with revoked_at set.
    expect((await findKeyForAuth(srv.db, hashKey(secret), clock()))?.key.revoked_at).not.toBeNull();

    const listed = await c.listKeys({ instanceId: "agent" });
    expect(listed.keys.map((k) => k.id)).not.toContain(id);
    const withRevoked = await c.listKeys({ instanceId: "agent", includeRevoked: true });
    expect(withRevoked.keys.map((k) => k.id)).toContain(id);
  });

  it("rotates with a grace period during which the old secret still authenticates", async () => {
    const c = srv.client();
    const { key, secret: oldSecret } = await c.createKey({ instanceId: "agent" });
    const id = key?.id ?? "";
    const rotated = await c.rotateKey({ id, gracePeriod: durationFromMs(10 * 60_000) });
    expect(rotated.secret).not.toBe(oldSecret);
    expect(rotated.key?.prefix).toBe(rotated.secret.slice(0, 12));
    expect(Number(rotated.key?.previousSecretExpiresAt?.seconds)).toBe(
      Math.floor((now + 10 * 60_000) / 1000),
    );

    const start = now;
    expect((await findKeyForAuth(srv.db, hashKey(rotated.secret), new Date(start)))?.key.id).toBe(id);
    expect(
      (await findKeyForAuth(srv.db, hashKey(oldSecret), new Date(start + 9 * 60_000)))?.viaPrevious,
    ).toBe(true);
    expect(
      await findKeyForAuth(srv.db, hashKey(oldSecret), new Date(start + 10 * 60_000 + 1)),
    ).toBeUndefined();

    // Past the grace period the key no longer reports a previous secret.
    now = start + 11 * 60_000;
    expect((await c.getKey({ id })).key?.previousSecretExpiresAt).toBeUndefined();

    // Zero grace: the old secret stops at once.
    const second = await c.rotateKey({ id });
    expect(await findKeyForAuth(srv.db, hashKey(rotated.secret), clock())).toBeUndefined();
    expect((await findKeyForAuth(srv.db, hashKey(second.secret), clock()))?.key.id).toBe(id);

    expect((await failure(c.rotateKey({ id, gracePeriod: durationFromMs(-1000) }))).message).toMatch(
      /^grace_period: /,
    );
    const events = await c.listAuditEvents({ action: "key.rotate" });
    expect(events.events.filter((e) => e.resource === `keys/${id}`)).toHaveLength(2);
    expect(events.events.every((e) => !e.detailsJson.includes(second.secret))).toBe(true);
  });

  it("refuses to rotate an expired key", async () => {
    const c = srv.client();
    const { key } = await c.createKey({
      instanceId: "agent",
      expiresAt: timestampFromDate(new Date(now + HOUR)),
    });
    expect(key?.state).toBe(KeyState.ACTIVE);
    now += 2 * HOUR;
    expect((await c.getKey({ id: key?.id ?? "" })).key?.state).toBe(KeyState.EXPIRED);
    const res = await failure(c.rotateKey({ id: key?.id ?? "" }));
    expect(res.code).toBe(Code.FailedPrecondition);
    expect(res.message).toMatch(/expired/);
  });

  it("updates fields in the mask and audits limit changes", async () => {
    const c = srv.client();
    const { key } = await c.createKey({ instanceId: "agent", displayName: "a", tag: "t1" });
    const id = key?.id ?? "";
    const updated = await c.updateKey({
      key: {
        id,
        displayName: "b",
        tag: "ignored",
        rateLimit: { tokensPerDay: 1000n },
        sourceCidrs: ["127.0.0.1/32"],
      },
      updateMask: { paths: ["display_name", "rate_limit", "source_cidrs"] },
    });
    expect(updated.key?.displayName).toBe("b");
    expect(updated.key?.tag).toBe("t1");
    expect(updated.key?.rateLimit?.tokensPerDay).toBe(1000n);
    expect(updated.key?.sourceCidrs).toEqual(["127.0.0.1/32"]);
    const limits = await c.listAuditEvents({ action: "limits." });
    const ev = limits.events.find((e) => e.resource === `keys/${id}`);
    expect(JSON.parse(ev?.detailsJson ?? "{}")).toMatchObject({
      after: { rate_limit: { tokensPerDay: 1000 } },
    });

    const cidr = await failure(
      c.updateKey({
        key: { id, sourceCidrs: ["10.0.0.0/8", "10.0.0.0/33"] },
        updateMask: { paths: ["source_cidrs"] },
      }),
    );
    expect(cidr).toEqual({ code: Code.InvalidArgument, message: "key.source_cidrs[1]: not a CIDR" });
    const path = await failure(c.updateKey({ key: { id }, updateMask: { paths: ["secret_hash"] } }));
    expect(path.code).toBe(Code.InvalidArgument);
    expect(path.message).toMatch(/secret_hash/);

    await c.deleteKey({ id });
    expect((await failure(c.getKey({ id }))).code).toBe(Code.NotFound);
    expect((await failure(c.deleteKey({ id }))).code).toBe(Code.NotFound);
  });

  it("validates new keys and requires an existing instance", async () => {
    const c = srv.client();
    const cidr = await failure(
      c.createKey({ instanceId: "agent", sourceCidrs: ["10.0.0.0/8", "not-an-ip"] }),
    );
    expect(cidr).toEqual({ code: Code.InvalidArgument, message: "source_cidrs[1]: not a CIDR" });
    expect((await failure(c.createKey({ instanceId: "ghost" }))).code).toBe(Code.NotFound);
    expect((await failure(c.createKey({ instanceId: "" }))).message).toBe("instance_id: is required");
    const past = await failure(
      c.createKey({ instanceId: "agent", expiresAt: timestampFromDate(new Date(now - 1000)) }),
    );
    expect(past.message).toBe("expires_at: must be in the future");
    expect((await failure(c.createKey({ instanceId: "agent", ttl: durationFromMs(0) }))).message).toBe(
      "ttl: must be positive",
    );
    // A disabled instance may still get keys.
    await c.createInstance({ instanceId: "off", instance: { disabled: true } });
    expect((await c.createKey({ instanceId: "off" })).key?.instanceId).toBe("off");
  });

  it("pages through keys", async () => {
    const c = srv.client();
    await c.createInstance({ instanceId: "many" });
    const created = new Set<string>();
    for (let i = 0; i < 5; i++) created.add((await c.createKey({ instanceId: "many" })).key?.id ?? "");
    const seen: string[] = [];
    let token = "";
    do {
      const page = await c.listKeys({ instanceId: "many", pageSize: 2, pageToken: token });
      seen.push(...page.keys.map((k) => k.id));
      token = page.nextPageToken;
    } while (token);
    expect(new Set(seen)).toEqual(created);
    expect(seen).toHaveLength(5);
    expect((await failure(c.listKeys({ pageToken: "bm9wZQ" }))).code).toBe(Code.InvalidArgument);
  });

  it("deleting an instance deletes its keys", async () => {
    const c = srv.client();
    await c.createInstance({ instanceId: "doomed" });
    const { key, secret } = await c.createKey({ instanceId: "doomed" });
    await c.deleteInstance({ id: "doomed" });
    expect((await failure(c.getKey({ id: key?.id ?? "" }))).code).toBe(Code.NotFound);
    expect(await findKeyForAuth(srv.db, hashKey(secret), clock())).toBeUndefined();
  });
});
