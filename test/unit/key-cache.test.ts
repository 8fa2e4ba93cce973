import { describe, expect, it } from "vitest";
import { createKeyCache, type KeyLoader } from "../../server/src/auth/key-cache.js";
import { hashKey } from "../../server/src/secrets/virtual-key.js";
import type { KeyForAuth } from "../../server/src/store/keys.js";
import type { InstanceRow, VirtualKeyRow } from "../../server/src/store/schema.js";

function row(id: string, secret: string, revoked = false): KeyForAuth {
  const now = new Date();
  const key: VirtualKeyRow = {
    id,
    instance_id: "agent-1",
    prefix: secret.slice(0, 12),
    display_name: id,
    secret_hash: hashKey(secret),
    previous_hash: null,
    previous_expires_at: null,
    allowed_models: [],
    source_cidrs: [],
    rate_limit: {},
    budgets: [],
    tag: "",
    expires_at: null,
    revoked_at: revoked ? now : null,
    last_used_at: null,
    create_time: now,
    update_time: now,
  };
  const instance: InstanceRow = {
    id: "agent-1",
    display_name: "",
    labels: {},
    disabled: false,
    policy: { allowedModels: [], rateLimit: {}, budgets: [] },
    tag: "",
    capture_mode: "none",
    create_time: now,
    update_time: now,
  };
  return { key, instance, viaPrevious: false };
}

/** A loader backed by a mutable "database", counting reads, whose reads can be held open. */
function fakeStore() {
  const rows = new Map<string, KeyForAuth>();
  let reads = 0;
  let gate: Promise<void> | undefined;
  const load: KeyLoader = async (hash) => {
    reads++;
    const snapshot = rows.get(hash);
    if (gate) await gate;
    return snapshot;
  };
  return {
    rows,
    load,
    reads: () => reads,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe("key cache", () => {
  it("loads a key once, then answers from memory", async () => {
    const s = fakeStore();
    s.rows.set(hashKey("kg_live_a"), row("key_a", "kg_live_a"));
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    const first = await cache.resolve("kg_live_a");
    expect(first?.id).toBe("key_a");
    const second = cache.resolve("kg_live_a");
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as { id: string }).id).toBe("key_a");
    expect(s.reads()).toBe(1);
  });

  it("shares one load between concurrent misses", async () => {
    const s = fakeStore();
    s.rows.set(hashKey("kg_live_a"), row("key_a", "kg_live_a"));
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    const release = s.hold();
    const all = Promise.all([
      cache.resolve("kg_live_a"),
      cache.resolve("kg_live_a"),
      cache.resolve("kg_live_a"),
    ]);
    release();
    const got = await all;
    expect(got.map((p) => p?.id)).toEqual(["key_a", "key_a", "key_a"]);
    expect(s.reads()).toBe(1);
  });

  it("evicting a key makes the next lookup see the database's current state", async () => {
    const s = fakeStore();
    const h = hashKey("kg_live_a");
    s.rows.set(h, row("key_a", "kg_live_a"));
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    expect((await cache.resolve("kg_live_a"))?.revoked).toBe(false);
    s.rows.set(h, row("key_a", "kg_live_a", true));
    cache.evictKey("key_a");
    expect((await cache.resolve("kg_live_a"))?.revoked).toBe(true);
  });

  it("a load that started before an eviction does not repopulate the cache with stale data", async () => {
    const s = fakeStore();
    const h = hashKey("kg_live_a");
    s.rows.set(h, row("key_a", "kg_live_a"));
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    const release = s.hold();
    const stale = cache.resolve("kg_live_a");
    s.rows.set(h, row("key_a", "kg_live_a", true));
    cache.evictKey("key_a");
    release();
    expect((await stale)?.revoked).toBe(false);
    expect((await cache.resolve("kg_live_a"))?.revoked).toBe(true);
  });

  it("while untrusted, every lookup goes to the database", async () => {
    const s = fakeStore();
    s.rows.set(hashKey("kg_live_a"), row("key_a", "kg_live_a"));
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    await cache.resolve("kg_live_a");
    cache.setTrusted(false);
    await cache.resolve("kg_live_a");
    await cache.resolve("kg_live_a");
    expect(s.reads()).toBe(3);
    expect(cache.size()).toBe(0);
    cache.setTrusted(true);
    await cache.resolve("kg_live_a");
    cache.resolve("kg_live_a");
    expect(s.reads()).toBe(4);
  });

  it("evicting an instance drops all of its keys", async () => {
    const s = fakeStore();
    s.rows.set(hashKey("kg_live_a"), row("key_a", "kg_live_a"));
    s.rows.set(hashKey("kg_live_b"), row("key_b", "kg_live_b"));
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    await cache.resolve("kg_live_a");
    await cache.resolve("kg_live_b");
    expect(cache.size()).toBe(2);
    cache.evictInstance("agent-1");
    expect(cache.size()).toBe(0);
  });

  it("static config tokens resolve without the database and unknown keys resolve to nothing", async () => {
    const s = fakeStore();
    const cache = createKeyCache({
      load: s.load,
      staticTokens: [{ name: "ci", token: "static-secret", allowedModels: ["codellama:34b"] }],
    });
    const p = cache.resolve("static-secret");
    expect(p).not.toBeInstanceOf(Promise);
    expect((p as { id: string; allowsModel: (m: string) => boolean }).allowsModel("codellama:34b")).toBe(
      true,
    );
    expect((p as { allowsModel: (m: string) => boolean }).allowsModel("gpt-4o")).toBe(false);
    expect(await cache.resolve("nope")).toBeUndefined();
    expect(s.reads()).toBe(1);
  });

  it("answers a secret the database does not know from memory after one read, within a bound", async () => {
    const s = fakeStore();
    const cache = createKeyCache({ load: s.load, staticTokens: [], maxUnknown: 2 });
    expect(await cache.resolve("kg_live_gone")).toBeUndefined();
    expect(cache.resolve("kg_live_gone")).toBeUndefined();
    expect(s.reads()).toBe(1);
    // The oldest unknown secret is forgotten first.
    await cache.resolve("kg_live_x");
    await cache.resolve("kg_live_y");
    expect(await cache.resolve("kg_live_gone")).toBeUndefined();
    expect(s.reads()).toBe(4);
  });

  it("does not remember unknown secrets while untrusted, and forgets them on clear", async () => {
    const s = fakeStore();
    const cache = createKeyCache({ load: s.load, staticTokens: [] });
    cache.setTrusted(false);
    await cache.resolve("kg_live_gone");
    await cache.resolve("kg_live_gone");
    expect(s.reads()).toBe(2);
    cache.setTrusted(true);
    await cache.resolve("kg_live_gone");
    cache.clear();
    s.rows.set(hashKey("kg_live_gone"), row("key_g", "kg_live_gone"));
    expect((await cache.resolve("kg_live_gone"))?.id).toBe("key_g");
  });
});
