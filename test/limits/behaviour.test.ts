// The same behaviour from the in-memory limiter and the Redis limiter.
import { afterEach, describe, expect, it } from "vitest";
import type { Admission, Limiter, Ticket } from "../../server/src/limits/index.js";
import { T, type Harness, header, memoryHarness, redisHarness } from "./helpers.js";

function ticketOf(a: Admission): Ticket {
  if (!a.ok) throw new Error(`expected admission, got ${a.reason}: ${a.message}`);
  return a.ticket;
}

const harnesses: [string, () => Harness][] = [
  ["memory", memoryHarness],
  ["redis", redisHarness],
];

describe.each(harnesses)("%s limiter", (_name, makeHarness) => {
  let h: Harness;
  const setup = async (opts?: Parameters<Harness["make"]>[0]): Promise<Limiter> => {
    h = makeHarness();
    return h.make(opts);
  };
  afterEach(async () => {
    await h.close();
  });

  it("requests per minute: exact under a concurrent burst", async () => {
    const l = await setup();
    const scopes = [{ id: "global", rate: { requestsPerMinute: 60 } }];
    const results = await Promise.all(
      Array.from({ length: 300 }, () => l.admit({ scopes, estimatedTokens: 10, maxCostUsd: null })),
    );
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(60);
    for (const r of admitted) expect(ticketOf(r).store).toBe(h.kind);
    for (const r of results) {
      if (r.ok) continue;
      expect(r.reason).toBe("requests");
      expect(r.scopeId).toBe("global");
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(r.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it("sliding window: retry-after is when the oldest entry leaves, no boundary doubling", async () => {
    const l = await setup();
    const scopes = [{ id: "key:k1", rate: { requestsPerMinute: 2 } }];
    const admit = (now: number) => l.admit({ scopes, estimatedTokens: 0, maxCostUsd: null, now });
    expect((await admit(T)).ok).toBe(true);
    expect((await admit(T + 1000)).ok).toBe(true);
    const refused = await admit(T + 5000);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.retryAfterSeconds).toBe(55);
    expect(header(refused.headers, "retry-after")).toBe("55");
    expect(header(refused.headers, "retry-after-ms")).toBe("55000");
    expect(header(refused.headers, "x-ratelimit-remaining-requests")).toBe("0");
    // Full reset when the newest entry (T+1000) leaves: 56 s from T+5000.
    expect(header(refused.headers, "x-ratelimit-reset-requests")).toBe("56s");
    // Crossing a minute boundary does not reset the count...
    expect((await admit(T + 59_999)).ok).toBe(false);
    // ...only the oldest entry leaving does.
    expect((await admit(T + 60_000)).ok).toBe(true);
    expect((await admit(T + 60_500)).ok).toBe(false);
    expect((await admit(T + 61_000)).ok).toBe(true);
  });

  it("checks every scope in one step: a refusal counts nothing anywhere", async () => {
    const l = await setup();
    const wide = {
      id: "global",
      rate: { requestsPerMinute: 10, tokensPerMinute: 10_000, maxConcurrent: 10 },
    };
    const narrow = { id: "key:k1", rate: { requestsPerMinute: 1 } };
    const input = { scopes: [wide, narrow], estimatedTokens: 100, maxCostUsd: null, now: T };
    expect((await l.admit(input)).ok).toBe(true);
    const refused = await l.admit({ ...input, now: T + 1 });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.scopeId).toBe("key:k1");
    const status = await l.status(wide, T + 2);
    const used = Object.fromEntries(status.rate.map((r) => [r.dimension, r.used]));
    expect(used).toEqual({ requests_per_minute: 1, tokens_per_minute: 100, max_concurrent: 1 });
  });

  it("tokens: the estimate is reserved up front, so a burst cannot blow through", async () => {
    const l = await setup();
    const scopes = [{ id: "key:k1", rate: { tokensPerMinute: 1000 } }];
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => l.admit({ scopes, estimatedTokens: 300, maxCostUsd: null, now: T })),
    );
    const admitted = burst.filter((r) => r.ok);
    expect(admitted).toHaveLength(3);
    const refused = burst.find((r) => !r.ok);
    if (!refused || refused.ok) throw new Error("expected refusals");
    expect(refused.reason).toBe("tokens");
    // The bucket of T leaves the window 61 s after T (1 s buckets).
    expect(refused.retryAfterSeconds).toBe(61);
    expect(header(refused.headers, "x-ratelimit-remaining-tokens")).toBe("100");

    // Settling with a smaller actual frees the difference.
    l.settle(ticketOf(admitted[0]!), { tokens: 50, costUsd: null });
    expect((await l.admit({ scopes, estimatedTokens: 300, maxCostUsd: null, now: T + 10_000 })).ok).toBe(
      true,
    );
    const status = await l.status(scopes[0]!, T + 10_001);
    expect(status.rate).toEqual([
      expect.objectContaining({ dimension: "tokens_per_minute", limit: 1000, used: 950 }),
    ]);
  });

  it("tokens: settling with an unknown count keeps the estimate as used", async () => {
    const l = await setup();
    const scopes = [{ id: "key:k1", rate: { tokensPerMinute: 1000 } }];
    const a = ticketOf(await l.admit({ scopes, estimatedTokens: 300, maxCostUsd: null, now: T }));
    const b = ticketOf(await l.admit({ scopes, estimatedTokens: 300, maxCostUsd: null, now: T }));
    l.settle(a, { tokens: null, costUsd: null });
    l.settle(b, { tokens: 100, costUsd: null });
    const status = await l.status(scopes[0]!, T + 1);
    expect(status.rate).toEqual([
      expect.objectContaining({ dimension: "tokens_per_minute", limit: 1000, used: 400 }),
    ]);
  });

  it("tokens: a request larger than the limit is refused for good", async () => {
    const l = await setup();
    const scopes = [{ id: "key:k1", rate: { tokensPerHour: 500 } }];
    const r = await l.admit({ scopes, estimatedTokens: 501, maxCostUsd: null, now: T });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe("tokens");
    expect(r.retryAfterSeconds).toBeNull();
    expect(header(r.headers, "retry-after")).toBeUndefined();
    expect(header(r.headers, "x-should-retry")).toBe("false");
    expect(r.message).toContain("501");
  });

  it("max concurrent: released by settle, and a lost ticket's lease expires", async () => {
    const l = await setup({ leaseMs: 5_000 });
    const scopes = [{ id: "instance:agent-1", rate: { maxConcurrent: 2 } }];
    const admit = (now: number) => l.admit({ scopes, estimatedTokens: 0, maxCostUsd: null, now });
    const a = ticketOf(await admit(T));
    ticketOf(await admit(T));
    const refused = await admit(T + 1);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.reason).toBe("concurrency");
      expect(refused.retryAfterSeconds).toBe(1);
    }
    l.settle(a, { tokens: 0, costUsd: null });
    ticketOf(await admit(T + 2));
    expect((await admit(T + 3)).ok).toBe(false);
    // Nobody settles the other two (a crashed replica): their leases run out.
    expect((await admit(T + 4_999)).ok).toBe(false);
    ticketOf(await admit(T + 5_001));
  });

  it("budgets: concurrent admits never reserve past the limit", async () => {
    const l = await setup();
    const scopes = [{ id: "key:k1", budgets: [{ window: "daily" as const, limitUsd: 1 }] }];
    const results = await Promise.all(
      Array.from({ length: 50 }, () => l.admit({ scopes, estimatedTokens: 0, maxCostUsd: 0.1, now: T })),
    );
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(10);
    const refused = results.find((r) => !r.ok);
    if (refused && !refused.ok) {
      expect(refused.reason).toBe("budget");
      // Only reservations of requests in flight block: worth retrying soon.
      expect(refused.retryAfterSeconds).toBe(1);
    }
    for (const a of admitted) l.settle(ticketOf(a), { tokens: 0, costUsd: 0.1 });
    const [budget] = (await l.status(scopes[0]!, T + 1)).budgets;
    expect(budget?.spentUsd).toBeLessThanOrEqual(1);
    expect(budget?.spentUsd).toBeGreaterThanOrEqual(0.9);
    expect(budget?.reservedUsd).toBe(0);
    // Spent now: refused until the day ends.
    const after = await l.admit({ scopes, estimatedTokens: 0, maxCostUsd: 0.1, now: T + 2 });
    expect(after.ok).toBe(false);
    if (!after.ok) {
      expect(after.retryAfterSeconds).toBe(12 * 3600);
      expect(header(after.headers, "x-should-retry")).toBe("false");
    }
  });

  it("budgets: settling below the reservation frees the rest; unknown cost keeps the reservation", async () => {
    const l = await setup();
    const scope = { id: "key:k1", budgets: [{ window: "monthly" as const, limitUsd: 1 }] };
    const admit = () => l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 0.4, now: T });
    const a = ticketOf(await admit());
    const b = ticketOf(await admit());
    expect((await admit()).ok).toBe(false);
    l.settle(a, { tokens: 0, costUsd: 0.05 });
    const c = ticketOf(await admit());
    l.settle(b, { tokens: 0, costUsd: null });
    const [budget] = (await l.status(scope, T + 1)).budgets;
    expect(budget).toEqual({
      window: "monthly",
      limitUsd: 1,
      spentUsd: 0.45,
      reservedUsd: 0.4,
      resetsAt: new Date("2026-12-01T00:00:00Z"),
    });
    // A second settle of the same ticket changes nothing.
    l.settle(b, { tokens: 0, costUsd: 0.4 });
    l.settle(c, { tokens: 0, costUsd: 0.1 });
    const [later] = (await l.status(scope, T + 2)).budgets;
    expect(later?.spentUsd).toBeCloseTo(0.55, 9);
    expect(later?.reservedUsd).toBe(0);
  });

  it("budgets: unknown price reserves nothing but still refuses when exhausted", async () => {
    const l = await setup();
    const scope = { id: "key:k1", budgets: [{ window: "total" as const, limitUsd: 0.5 }] };
    const a = ticketOf(await l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: null, now: T }));
    l.settle(a, { tokens: 0, costUsd: 0.5 });
    const r = await l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: null, now: T + 1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe("budget");
    // The total window never resets.
    expect(r.retryAfterSeconds).toBeNull();
    expect(r.message).toContain("total");
  });

  it("budgets: a crashed request's reservation expires", async () => {
    const l = await setup({ reservationTtlMs: 10_000 });
    const scope = { id: "key:k1", budgets: [{ window: "daily" as const, limitUsd: 1 }] };
    ticketOf(await l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 1, now: T }));
    expect((await l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 1, now: T + 9_999 })).ok).toBe(
      false,
    );
    ticketOf(await l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 1, now: T + 10_000 }));
  });

  it("budgets: windows roll over at UTC midnight and are seeded once from recorded spend", async () => {
    const calls: [string, string, string][] = [];
    const l = await setup({
      seedSpend: async (scopeId, window, since) => {
        calls.push([scopeId, window, since.toISOString()]);
        return window === "daily" && since.getTime() === Date.UTC(2026, 10, 21) ? 0.95 : 0;
      },
    });
    const scope = {
      id: "key:k1",
      budgets: [
        { window: "daily" as const, limitUsd: 1 },
        { window: "weekly" as const, limitUsd: 5 },
      ],
    };
    const lateNight = Date.UTC(2026, 10, 21, 23, 59, 59);
    const first = await Promise.all(
      Array.from({ length: 5 }, () =>
        l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 0.1, now: lateNight }),
      ),
    );
    for (const r of first) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.retryAfterSeconds).toBe(1);
    }
    expect(calls.sort()).toEqual([
      ["key:k1", "daily", "2026-11-21T00:00:00.000Z"],
      ["key:k1", "weekly", "2026-11-16T00:00:00.000Z"],
    ]);
    // Sunday: a new day, same ISO week.
    const sunday = ticketOf(
      await l.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 0.1, now: Date.UTC(2026, 10, 22) }),
    );
    l.settle(sunday, { tokens: 0, costUsd: 0.08 });
    expect(calls).toHaveLength(3);
    expect(calls).toContainEqual(["key:k1", "daily", "2026-11-22T00:00:00.000Z"]);
    const status = await l.status(scope, Date.UTC(2026, 10, 22, 1));
    expect(status.budgets.map((b) => [b.window, b.spentUsd])).toEqual([
      ["daily", 0.08],
      ["weekly", 0.08],
    ]);
  });

  it("budgets fail closed when recorded spend cannot be read, and recover when it can", async () => {
    let healthy = false;
    const errors: unknown[] = [];
    h = makeHarness();
    const l = await h.make({
      seedSpend: async () => {
        if (!healthy) throw new Error("database unavailable");
        return 0;
      },
      onSeedError: (err) => errors.push(err),
    });
    const scopes = [{ id: "key:k1", budgets: [{ window: "daily" as const, limitUsd: 1 }] }];
    const r = await l.admit({ scopes, estimatedTokens: 0, maxCostUsd: 0.1, now: T });
    expect(r).toMatchObject({ ok: false, reason: "budget", retryAfterSeconds: 1 });
    if (!r.ok) expect(r.message).toMatch(/spend history is unavailable/);
    expect(errors).toHaveLength(1);
    healthy = true;
    expect((await l.admit({ scopes, estimatedTokens: 0, maxCostUsd: 0.1, now: T })).ok).toBe(true);
  });

  it("headers: OpenAI x-ratelimit-* from the tightest scope", async () => {
    const l = await setup();
    const scopes = [
      { id: "global", rate: { requestsPerMinute: 100, tokensPerMinute: 10_000 } },
      { id: "key:k1", rate: { requestsPerMinute: 60, tokensPerHour: 2_000 } },
    ];
    const r = await l.admit({ scopes, estimatedTokens: 500, maxCostUsd: null, now: T });
    expect(r.ok).toBe(true);
    expect(r.headers).toEqual([
      ["x-ratelimit-limit-requests", "60"],
      ["x-ratelimit-remaining-requests", "59"],
      ["x-ratelimit-reset-requests", "1m0s"],
      ["x-ratelimit-limit-tokens", "2000"],
      ["x-ratelimit-remaining-tokens", "1500"],
      // The minute bucket of T leaves the hour window 61 minutes after T.
      ["x-ratelimit-reset-tokens", "1h1m0s"],
    ]);
    const none = await l.admit({ scopes: [], estimatedTokens: 500, maxCostUsd: null, now: T });
    expect(none).toMatchObject({ ok: true, headers: [] });
  });
});
