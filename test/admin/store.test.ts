// Repositories, migrations and change notifications, directly against PGlite and Postgres.
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashKey, generateVirtualKey } from "../../server/src/secrets/virtual-key.js";
import { migrateToLatest } from "../../server/src/store/migrate.js";
import { createInstance, deleteInstance } from "../../server/src/store/instances.js";
import {
  createKey,
  findKeyForAuth,
  getKey,
  newKeyId,
  rotateKey,
  touchLastUsed,
} from "../../server/src/store/keys.js";
import { CHANGES_CHANNEL, parseChange, type ChangeEvent } from "../../server/src/store/notify.js";
import { getRequest, listRequests } from "../../server/src/store/requests.js";
import type { Database } from "../../server/src/store/schema.js";
import { inTransaction } from "../../server/src/store/tx.js";
import {
  copyUsageWriter,
  deleteExpiredCaptures,
  insertUsageBatch,
  insertUsageWriter,
  isRefusedValue,
} from "../../server/src/store/usage.js";
import { queryUsage } from "../../server/src/store/usage-query.js";
import type { UsageRecord } from "../../server/src/usage/record.js";
import {
  BACKENDS,
  createScratchDatabase,
  openTestDatabase,
  type TestDatabase,
} from "../helpers/admin-server.js";

const POLICY = { allowedModels: [], rateLimit: {}, budgets: [] };
const T0 = new Date("2025-03-10T12:00:00.000Z");

function record(i: number, over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: `req-${String(i).padStart(4, "0")}`,
    time: new Date(T0.getTime() + i * 1000),
    instanceId: "inst-a",
    keyId: "key-a",
    providerId: "openai",
    api: "openai.chat",
    requestedModel: "gpt-4o",
    servedModel: "gpt-4o-2024-08-06",
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 1,
    cacheWriteTokens: 0,
    costUsd: 0.5,
    statusCode: 200,
    errorClass: "",
    latencyMs: 100 + i,
    ttfbMs: 20,
    stream: false,
    clientIp: "127.0.0.1",
    userAgent: "test",
    fallback: false,
    attempts: [{ providerId: "openai", model: "gpt-4o", statusCode: 200, latencyMs: 100, errorClass: "" }],
    replicaId: "r1",
    ...over,
  };
}

/** Subscribes to change notifications the way a replica would, collecting events. */
async function listen(
  t: TestDatabase,
): Promise<{ events: ChangeEvent[]; next(): Promise<ChangeEvent>; stop(): Promise<void> }> {
  const events: ChangeEvent[] = [];
  const waiters: ((e: ChangeEvent) => void)[] = [];
  const onPayload = (payload: string) => {
    const e = parseChange(payload);
    if (!e) return;
    const w = waiters.shift();
    if (w) w(e);
    else events.push(e);
  };
  const next = () =>
    new Promise<ChangeEvent>((resolve) => {
      const e = events.shift();
      if (e) resolve(e);
      else waiters.push(resolve);
    });
  if (t.open.pglite) {
    const unlisten = await t.open.pglite.listen(CHANGES_CHANNEL, onPayload);
    return { events, next, stop: () => unlisten() };
  }
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  client.on("notification", (n) => onPayload(n.payload ?? ""));
  await client.query(`listen ${CHANGES_CHANNEL}`);
  return { events, next, stop: () => client.end() };
}

describe.each(BACKENDS)("store on %s", (backend) => {
  let t: TestDatabase;
  let db: Kysely<Database>;
  beforeAll(async () => {
    t = await openTestDatabase(backend);
    db = t.open.db;
    await createInstance(
      db,
      "inst-a",
      { displayName: "", labels: {}, disabled: false, policy: POLICY, tag: "", captureMode: "none" },
      T0,
    );
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("migrations are idempotent and run once when several replicas start together", async () => {
    await migrateToLatest(db);
    // Postgres: separate pools race for the migration lock on a fresh database. PGlite: one
    // process, concurrent callers.
    const scratch = backend === "postgres" ? await createScratchDatabase() : undefined;
    const racers = scratch
      ? Array.from({ length: 3 }, () => {
          const pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
          // Dropping the scratch database terminates connections still closing; that is expected.
          pool.on("error", () => {});
          return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
        })
      : [db, db, db];
    try {
      await Promise.all(racers.map((d) => migrateToLatest(d)));
      const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(
        racers[0] as Kysely<Database>,
      );
      expect(applied.rows.map((r) => r.name)).toEqual(["0001_initial"]);
    } finally {
      if (scratch) {
        await Promise.all(racers.map((d) => d.destroy()));
        await scratch.drop();
      }
    }
    const tables = await db.introspection.getTables();
    const names = tables.map((x) => x.name);
    for (const name of [
      "instances",
      "virtual_keys",
      "providers",
      "usage_records",
      "captures",
      "routes",
      "aliases",
      "audit_events",
      "admin_tokens",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("finds a key by its hash, and the previous hash only during the grace period", async () => {
    const first = generateVirtualKey();
    const id = newKeyId();
    await createKey(
      db,
      {
        id,
        instanceId: "inst-a",
        prefix: first.prefix,
        secretHash: first.hash,
        displayName: "",
        allowedModels: [],
        sourceCidrs: [],
        rateLimit: {},
        budgets: [],
        tag: "",
        expiresAt: null,
      },
      T0,
    );
    const found = await findKeyForAuth(db, hashKey(first.secret), T0);
    expect(found?.key.id).toBe(id);
    expect(found?.instance.id).toBe("inst-a");
    expect(found?.instance.policy).toEqual(POLICY);
    expect(found?.viaPrevious).toBe(false);

    const second = generateVirtualKey();
    const graceEnd = new Date(T0.getTime() + 60_000);
    await rotateKey(
      db,
      id,
      { secretHash: second.hash, prefix: second.prefix, previousExpiresAt: graceEnd },
      T0,
    );
    expect((await findKeyForAuth(db, second.hash, T0))?.key.id).toBe(id);
    const old = await findKeyForAuth(db, first.hash, new Date(graceEnd.getTime() - 1));
    expect(old?.key.id).toBe(id);
    expect(old?.viaPrevious).toBe(true);
    expect(await findKeyForAuth(db, first.hash, graceEnd)).toBeUndefined();
    expect(await findKeyForAuth(db, hashKey("kg_live_unknown"), T0)).toBeUndefined();

    // touchLastUsed: one statement for many keys, never moving backwards.
    const later = new Date(T0.getTime() + 5000);
    await touchLastUsed(
      db,
      new Map([
        [id, later],
        ["key_missing", later],
      ]),
    );
    expect((await getKey(db, id))?.last_used_at?.toISOString()).toBe(later.toISOString());
    await touchLastUsed(db, new Map([[id, T0]]));
    expect((await getKey(db, id))?.last_used_at?.toISOString()).toBe(later.toISOString());
  });

  it("writes usage batches once, aggregates them in SQL and pages requests newest first", async () => {
    const records = [
      ...Array.from({ length: 6 }, (_, i) => record(i)),
      record(6, {
        id: "req-err",
        statusCode: 502,
        errorClass: "upstream_error",
        costUsd: null,
        latencyMs: 1000,
      }),
      record(7, {
        id: "req-anth",
        providerId: "anthropic",
        servedModel: "claude-x",
        requestedModel: "claude-x",
        time: new Date(T0.getTime() + 3_600_000),
      }),
      record(8, {
        id: "req-cap",
        capture: { requestBody: '{"q":1}', responseBody: '{"a":2}', truncated: false },
      }),
    ];
    await insertUsageBatch(db, records);
    // A retried batch does not double-count.
    await insertUsageBatch(db, records.slice(0, 3));

    const all = await queryUsage(db, { start: T0, end: new Date(T0.getTime() + 86_400_000) });
    expect(all).toHaveLength(1);
    expect(all[0]?.requests).toBe(9);
    expect(all[0]?.errors).toBe(1);
    expect(all[0]?.inputTokens).toBe(90);
    expect(all[0]?.unpricedRequests).toBe(1);
    expect(all[0]?.costUsd).toBeCloseTo(4.0);

    const byProvider = await queryUsage(db, {
      start: T0,
      end: new Date(T0.getTime() + 86_400_000),
      groupBy: ["provider", "model"],
      bucket: "hour",
    });
    expect(byProvider.map((r) => [r.providerId, r.model, r.bucketStart?.toISOString(), r.requests])).toEqual([
      ["openai", "gpt-4o-2024-08-06", "2025-03-10T12:00:00.000Z", 8],
      ["anthropic", "claude-x", "2025-03-10T13:00:00.000Z", 1],
    ]);
    const openai = byProvider[0];
    expect(openai?.latencyP50Ms).toBeGreaterThan(100);
    expect(openai?.latencyP95Ms).toBeGreaterThan(openai?.latencyP50Ms ?? Infinity);

    const filtered = await queryUsage(db, {
      start: T0,
      end: new Date(T0.getTime() + 86_400_000),
      filter: { models: ["claude-x"] },
    });
    expect(filtered[0]?.requests).toBe(1);

    const seen: string[] = [];
    let before: { time: Date; id: string } | undefined;
    for (;;) {
      const page = await listRequests(db, { limit: 4, ...(before ? { before } : {}) });
      seen.push(...page.rows.map((r) => r.id));
      if (!page.next) break;
      before = page.next;
    }
    expect(seen).toHaveLength(9);
    expect(seen[0]).toBe("req-anth");
    expect(new Set(seen).size).toBe(9);

    const errors = await listRequests(db, { limit: 10, errorsOnly: true });
    expect(errors.rows.map((r) => r.id)).toEqual(["req-err"]);

    const cap = await getRequest(db, "req-cap", { withCapture: true, now: T0 });
    expect(cap?.capture?.request_body).toBe('{"q":1}');
    expect((await getRequest(db, "req-cap"))?.capture).toBeUndefined();
    expect(await deleteExpiredCaptures(db, new Date(T0.getTime() + 8 * 86_400_000))).toBe(1);
    expect((await getRequest(db, "req-cap", { withCapture: true, now: T0 }))?.capture).toBeUndefined();
  });

  /** The writer the gateway uses on this backend: COPY on a Postgres server, the insert on PGlite. */
  const writeBatch = (records: UsageRecord[]): Promise<void> => {
    if (t.open.pool) {
      const w = copyUsageWriter(t.open.pool, db, 7);
      return w.insert(records, records.map(w.prepare));
    }
    const w = insertUsageWriter(db, 7);
    return w.insert(records, records.map(w.prepare));
  };
  const storedRows = (ids: string[]) =>
    db.selectFrom("usage_records").selectAll().where("id", "in", ids).orderBy("id").execute();

  it("the usage writer stores every column as the insert statement does, and a retried batch once", async () => {
    const over: Partial<UsageRecord>[] = [
      {},
      {
        costUsd: null,
        ttfbMs: null,
        statusCode: 499,
        errorClass: "client_closed",
        stream: true,
        userAgent: `long-agent/${"a".repeat(300)}`,
      },
      {
        requestedModel: "modèle-日本語-🚀",
        userAgent: "agent/1.0 (ünïcode)",
        fallback: true,
        latencyMs: 0.000123456789,
        costUsd: 1.5e-7,
        time: new Date(Date.UTC(2031, 6, 4, 23, 59, 59, 999)),
        attempts: [
          { providerId: "a", model: "m1", statusCode: 503, latencyMs: 12.5, errorClass: "upstream_error" },
          { providerId: "b", model: "m2", statusCode: 200, latencyMs: 0.25, errorClass: "" },
        ],
      },
    ];
    const written = over.map((o, i) => record(100 + i, { ...o, id: `w-${i}` }));
    const reference = over.map((o, i) => record(100 + i, { ...o, id: `r-${i}` }));
    await writeBatch(written);
    await insertUsageBatch(db, reference);
    // The same batch again, as after a commit that was not acknowledged: nothing is doubled.
    await writeBatch(written);
    await writeBatch([...written.slice(0, 1), record(103, { id: "w-3" })]);

    const got = await storedRows([...written.map((r) => r.id), "w-3"]);
    const want = await storedRows(reference.map((r) => r.id));
    expect(got).toHaveLength(4);
    expect(got.slice(0, 3).map(({ id: _, ...row }) => row)).toEqual(want.map(({ id: _, ...row }) => row));
    expect(got[2]?.requested_model).toBe("modèle-日本語-🚀");
    expect(got[2]?.time.toISOString()).toBe("2031-07-04T23:59:59.999Z");
    expect(got[1]?.cost_usd).toBeNull();
    expect(got[1]?.ttfb_ms).toBeNull();
    expect(got[1]?.user_agent).toBe(`long-agent/${"a".repeat(300)}`);
  });

  it("values Postgres refuses are stored replaced, and never hold back the records queued behind them", async () => {
    const odd = record(200, {
      id: "odd-1",
      requestedModel: "gpt\u0000x\ud800",
      servedModel: "\udc00served",
      userAgent: "ua\u0000",
      inputTokens: 5e12,
      outputTokens: Number.MAX_SAFE_INTEGER,
      costUsd: Number.NaN,
      attempts: [{ providerId: "p", model: "m\u0000", statusCode: 200, latencyMs: 1, errorClass: "" }],
      capture: { requestBody: "{}", responseBody: "data: \u0000\n\n", truncated: false },
    });
    await writeBatch([odd, record(201, { id: "odd-2" })]);
    await writeBatch([record(202, { id: "odd-3" })]);
    const rows = await storedRows(["odd-1", "odd-2", "odd-3"]);
    expect(rows.map((r) => r.id)).toEqual(["odd-1", "odd-2", "odd-3"]);
    const [row] = rows;
    expect(row?.requested_model).toBe("gpt\ufffdx\ufffd");
    expect(row?.served_model).toBe("\ufffdserved");
    expect(row?.user_agent).toBe("ua\ufffd");
    expect(row?.input_tokens).toBe(2_147_483_647);
    expect(row?.output_tokens).toBe(2_147_483_647);
    expect(row?.cost_usd).toBeNull();
    expect(row?.attempts).toEqual([
      { providerId: "p", model: "m\ufffd", statusCode: 200, latencyMs: 1, errorClass: "" },
    ]);
    const cap = await getRequest(db, "odd-1", { withCapture: true, now: T0 });
    expect(cap?.capture?.response_body).toBe("data: \ufffd\n\n");
  });

  it("tells a value the database refuses from an outage", async () => {
    const refused: unknown = await sql`select ${"12x"}::int as n`.execute(db).catch((err: unknown) => err);
    expect(isRefusedValue(refused)).toBe(true);
    const overflow: unknown = await sql`select ${"5000000000"}::int as n`
      .execute(db)
      .catch((err: unknown) => err);
    expect(isRefusedValue(overflow)).toBe(true);
    expect(isRefusedValue(new Error("Connection terminated unexpectedly"))).toBe(false);
    expect(isRefusedValue(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(false);
  });

  it("notifies changes only when the transaction commits", async () => {
    const sub = await listen(t);
    try {
      await expect(
        inTransaction(db, async (trx) => {
          await createInstance(
            trx,
            "inst-rolled-back",
            { displayName: "", labels: {}, disabled: false, policy: POLICY, tag: "", captureMode: "none" },
            T0,
          );
          await deleteInstance(trx, "inst-rolled-back");
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      await createInstance(
        db,
        "inst-b",
        { displayName: "", labels: {}, disabled: false, policy: POLICY, tag: "", captureMode: "none" },
        T0,
      );
      await deleteInstance(db, "inst-b");
      expect(await sub.next()).toMatchObject({ kind: "instance", id: "inst-b", nonce: expect.any(String) });
    } finally {
      await sub.stop();
    }
  });
});
