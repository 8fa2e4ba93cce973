import { afterEach, describe, expect, it, vi } from "vitest";
import pino from "pino";
import { createUsageRecorder } from "../../server/src/usage/recorder.js";
import type { UsageRecord } from "../../server/src/usage/record.js";
import { usageRecord } from "../helpers/records.js";

const silent = pino({ level: "silent" });

const rec = (i: number): UsageRecord => usageRecord({ id: `r${i}` });

/**
 * A database that refuses every insert while `down`; `sawFailures` resolves at the n-th refusal.
 * Once it is up again, `write` receives each batch with its prepared payloads.
 */
function flakyDatabase<P>(failuresToSee: number, write: (batch: UsageRecord[], prepared: P[]) => void) {
  let failures = 0;
  let seen!: () => void;
  const db = {
    down: true,
    sawFailures: new Promise<void>((resolve) => (seen = resolve)),
    insert: async (batch: UsageRecord[], prepared: P[]): Promise<void> => {
      if (db.down) {
        if (++failures === failuresToSee) seen();
        throw new Error("connection refused");
      }
      write(batch, prepared);
    },
  };
  return db;
}

/**
 * A recorder (batches of 4) whose database refuses every batch holding `refusedId` for that
 * record's value; `before` may fail a batch otherwise, as an outage would.
 */
function refusingDatabase(refusedId: string, before: (batch: UsageRecord[]) => void = () => undefined) {
  const refused = Object.assign(new Error("invalid byte sequence"), { code: "22021" });
  const written: string[] = [];
  let attempts = 0;
  const recorder = createUsageRecorder({
    insert: async (b) => {
      attempts++;
      if (b.some((x) => x.id === refusedId)) throw refused;
      before(b);
      written.push(...b.map((x) => x.id));
    },
    isRefusal: (err) => err === refused,
    batchSize: 4,
    flushIntervalMs: 1,
    queueLimit: 1000,
    logger: silent,
  });
  return { recorder, written, attempts: () => attempts };
}

describe("usage recorder", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes in multi-row batches of at most batchSize", async () => {
    const batches: number[] = [];
    const r = createUsageRecorder({
      insert: async (b) => void batches.push(b.length),
      batchSize: 10,
      flushIntervalMs: 1000,
      queueLimit: 1000,
      logger: silent,
    });
    for (let i = 0; i < 25; i++) r.record(rec(i));
    await r.drain(5000);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...batches)).toBeLessThanOrEqual(10);
    expect(r.stats()).toMatchObject({ queued: 0, written: 25, dropped: 0 });
  });

  it("buffers through a database outage and writes everything once it recovers", async () => {
    const written: string[] = [];
    const db = flakyDatabase(3, (b) => written.push(...b.map((x) => x.id)));
    const r = createUsageRecorder({
      insert: db.insert,
      batchSize: 4,
      flushIntervalMs: 1,
      queueLimit: 1000,
      logger: silent,
    });
    for (let i = 0; i < 10; i++) r.record(rec(i));
    await db.sawFailures;
    expect(r.stats().buffered).toBe(10);
    db.down = false;
    await r.drain(10_000);
    expect(written.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
    expect(r.stats()).toMatchObject({ buffered: 0, queued: 0, dropped: 0 });
  });

  it("past the queue limit it drops the oldest records and counts them", async () => {
    const r = createUsageRecorder({
      insert: async () => {
        throw new Error("down");
      },
      batchSize: 100,
      flushIntervalMs: 60_000,
      queueLimit: 5,
      logger: silent,
    });
    for (let i = 0; i < 8; i++) r.record(rec(i));
    expect(r.stats()).toMatchObject({ queued: 5, dropped: 3 });
  });

  it("hands each record's prepared payload to insert beside it, also after the oldest were dropped", async () => {
    const seen: [string, string][] = [];
    const db = flakyDatabase<string>(1, (batch, prepared) =>
      batch.forEach((x, i) => seen.push([x.id, prepared[i]!])),
    );
    const r = createUsageRecorder<string>({
      insert: db.insert,
      prepare: (x) => `row:${x.id}`,
      batchSize: 3,
      flushIntervalMs: 1,
      queueLimit: 5,
      logger: silent,
    });
    for (let i = 0; i < 8; i++) r.record(rec(i));
    await db.sawFailures;
    db.down = false;
    await r.drain(10_000);
    expect(seen).toEqual([3, 4, 5, 6, 7].map((i) => [`r${i}`, `row:r${i}`]));
  });

  it("sets no flush timer while a batch is being written, and writes the rest as soon as it is done", async () => {
    vi.useFakeTimers();
    const batches: string[][] = [];
    let release!: () => void;
    const inFlight = new Promise<void>((resolve) => (release = resolve));
    const r = createUsageRecorder({
      insert: async (b) => {
        batches.push(b.map((x) => x.id));
        if (batches.length === 1) await inFlight;
      },
      batchSize: 2,
      flushIntervalMs: 60_000,
      queueLimit: 1000,
      logger: silent,
    });
    r.record(rec(0));
    r.record(rec(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([["r0", "r1"]]);
    for (let i = 2; i < 7; i++) {
      r.record(rec(i));
      // A timer set now would only find the writer busy; none may be pending.
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(batches).toHaveLength(1);
    release();
    // The full queue is written at once, without waiting for the 60 s interval.
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(0);
    await r.drain(1000);
    expect(batches.flat()).toEqual(["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
    expect(Math.max(...batches.map((b) => b.length))).toBe(2);
  });

  it("a record the database refuses is dropped alone; its batch and the records behind it are written", async () => {
    const db = refusingDatabase("r5");
    for (let i = 0; i < 10; i++) db.recorder.record(rec(i));
    await db.recorder.drain(5000);
    expect(db.written).toEqual(["r0", "r1", "r2", "r3", "r4", "r6", "r7", "r8", "r9"]);
    expect(db.recorder.stats()).toMatchObject({ queued: 0, written: 9, dropped: 1, writeFailures: 0 });
    // Three batches, and the refused one again record by record.
    expect(db.attempts()).toBe(3 + 4);
  });

  it("an outage during the record-by-record writes keeps the records not yet written", async () => {
    let down = false;
    let outageCalls = 0;
    let sawRetry!: () => void;
    // Resolves when the writer retries after the outage: the failure has been handled by then.
    const retried = new Promise<void>((resolve) => (sawRetry = resolve));
    const db = refusingDatabase("r1", (batch) => {
      if (batch[0]!.id === "r2" && outageCalls === 0) down = true;
      if (down) {
        if (++outageCalls === 2) sawRetry();
        throw new Error("connection reset");
      }
    });
    for (let i = 0; i < 4; i++) db.recorder.record(rec(i));
    await retried;
    expect(db.recorder.stats()).toMatchObject({ queued: 2, buffered: 2, dropped: 1 });
    down = false;
    await db.recorder.drain(10_000);
    expect(db.written).toEqual(["r0", "r2", "r3"]);
    expect(db.recorder.stats()).toMatchObject({ queued: 0, written: 3, dropped: 1 });
  });
});
