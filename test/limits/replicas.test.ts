// Several limiter instances (separate Redis connections, as separate replicas have) share one Redis.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { Admission, Limiter, LimitScope } from "../../server/src/limits/index.js";
import { REDIS_URL, T, redisHarness } from "./helpers.js";

let h: ReturnType<typeof redisHarness>;
let raw: Redis | undefined;

afterEach(async () => {
  raw?.disconnect();
  raw = undefined;
  await h.close();
});

async function replicas(n: number, opts?: Parameters<typeof h.make>[0]): Promise<Limiter[]> {
  h = redisHarness();
  return Promise.all(Array.from({ length: n }, () => h.make(opts)));
}

describe("redis limiter across replicas", () => {
  it("requests per minute is exact: 300 concurrent admits over 3 replicas, limit 60", async () => {
    const ls = await replicas(3);
    const scopes: LimitScope[] = [{ id: "global", rate: { requestsPerMinute: 60 } }];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        ls[i % 3]!.admit({ scopes, estimatedTokens: 1, maxCostUsd: null }),
      ),
    );
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(60);
    for (const r of admitted) expect(r.ticket.store).toBe("redis");
    for (const r of results) {
      if (r.ok) continue;
      expect(r.reason).toBe("requests");
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers.find(([k]) => k === "retry-after")?.[1])).toBeGreaterThanOrEqual(1);
    }
    raw = new Redis(REDIS_URL);
    expect(await raw.zcard(`${h.prefix}:rpm:global`)).toBe(60);
  });

  it("budgets hold across replicas: $1.00 limit, 50 concurrent admits at $0.10", async () => {
    const ls = await replicas(3);
    const scopes: LimitScope[] = [{ id: "key:k1", budgets: [{ window: "daily", limitUsd: 1 }] }];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ls[i % 3]!.admit({ scopes, estimatedTokens: 0, maxCostUsd: 0.1, now: T }),
      ),
    );
    const admitted = results.filter((r): r is Extract<Admission, { ok: true }> => r.ok);
    expect(admitted).toHaveLength(10);
    admitted.forEach((a, i) => ls[i % 3]!.settle(a.ticket, { tokens: 0, costUsd: 0.1 }));
    // Each replica's status runs after its own settles on the same connection.
    await Promise.all(ls.map((l) => l.status(scopes[0]!, T + 1)));
    const final = await ls[0]!.status(scopes[0]!, T + 2);
    expect(final.shared).toBe(true);
    expect(final.budgets[0]?.reservedUsd).toBe(0);
    expect(final.budgets[0]?.spentUsd).toBeLessThanOrEqual(1);
    expect(final.budgets[0]?.spentUsd).toBeGreaterThanOrEqual(0.9);

    raw = new Redis(REDIS_URL);
    const key = `${h.prefix}:budget:key:k1:daily:2026-11-21`;
    expect(await raw.get(key)).toBe("1000000");
    // The window's counter outlives its day only by the slack for straddling requests.
    expect(await raw.pttl(key)).toBeGreaterThan(0);
  });

  it("a missing window is seeded from recorded spend once, with SET NX, whichever replica asks first", async () => {
    let seeds = 0;
    const ls = await replicas(3, {
      seedSpend: async () => {
        seeds++;
        return 0.5;
      },
    });
    const scopes: LimitScope[] = [{ id: "key:k1", budgets: [{ window: "weekly", limitUsd: 1 }] }];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ls[i % 3]!.admit({ scopes, estimatedTokens: 0, maxCostUsd: 0.1, now: T }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    // At most one query per replica, whatever the burst.
    expect(seeds).toBeGreaterThanOrEqual(1);
    expect(seeds).toBeLessThanOrEqual(3);
    raw = new Redis(REDIS_URL);
    expect(await raw.get(`${h.prefix}:budget:key:k1:weekly:2026-W47`)).toBe("500000");
  });

  it("the total window's counter does not expire", async () => {
    const [l] = await replicas(1);
    const scope: LimitScope = { id: "instance:agent-1", budgets: [{ window: "total", limitUsd: 10 }] };
    const a = await l!.admit({ scopes: [scope], estimatedTokens: 0, maxCostUsd: 1, now: T });
    expect(a.ok).toBe(true);
    if (a.ok) l!.settle(a.ticket, { tokens: 0, costUsd: 2.5 });
    expect((await l!.status(scope)).budgets[0]?.spentUsd).toBe(2.5);
    raw = new Redis(REDIS_URL);
    expect(await raw.pttl(`${h.prefix}:budget:instance:agent-1:total:all`)).toBe(-1);
  });

  it("an admitted request costs one Redis round trip", async () => {
    const name = `kg-limits-${randomUUID()}`;
    const [l] = await replicas(1, { connectionName: name });
    const scopes: LimitScope[] = [
      { id: "global", rate: { requestsPerMinute: 1000, tokensPerMinute: 1_000_000, maxConcurrent: 100 } },
      { id: "key:k1", rate: { tokensPerHour: 1_000_000 }, budgets: [{ window: "daily", limitUsd: 100 }] },
    ];
    // Warm up: load the script and seed the budget window.
    expect((await l!.admit({ scopes, estimatedTokens: 10, maxCostUsd: 0.01 })).ok).toBe(true);

    raw = new Redis(REDIS_URL);
    const clients = (await raw.client("LIST")) as string;
    const addr = clients
      .split("\n")
      .find((line) => line.includes(` name=${name} `))
      ?.match(/addr=(\S+)/)?.[1];
    expect(addr).toBeDefined();

    const monitor = await new Redis(REDIS_URL).monitor();
    const seen: string[][] = [];
    const marker = `kg-marker-${Math.random()}`;
    const sawMarker = new Promise<void>((resolve) => {
      monitor.on("monitor", (_time: string, args: string[], source: string) => {
        if (source === addr) seen.push(args);
        if (args[0]?.toLowerCase() === "echo" && args[1] === marker) resolve();
      });
    });
    try {
      const r = await l!.admit({ scopes, estimatedTokens: 10, maxCostUsd: 0.01 });
      expect(r.ok).toBe(true);
      // Commands reach MONITOR in execution order: once the marker shows, the admit's have too.
      await raw.echo(marker);
      await sawMarker;
      expect(seen.map((args) => args[0]?.toLowerCase())).toEqual(["evalsha"]);
    } finally {
      monitor.disconnect();
    }
  });
});
