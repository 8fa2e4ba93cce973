// Redis going away, hanging and coming back: rate limits fall back or refuse, budgets refuse,
// nothing hangs or throws, and the shared counters take over again on reconnect.
import { afterEach, describe, expect, it } from "vitest";
import { createRedisLimiter } from "../../server/src/limits/index.js";
import type { Limiter, LimitScope, RedisLimiterOptions } from "../../server/src/limits/index.js";
import { type RedisProxy, closedPort, deleteKeys, startRedisProxy, uniquePrefix } from "./helpers.js";

const rated: LimitScope[] = [{ id: "key:k1", rate: { requestsPerMinute: 2 } }];
const budgeted: LimitScope[] = [{ id: "key:k1", budgets: [{ window: "daily", limitUsd: 5 }] }];

let limiter: Limiter | undefined;
let proxy: RedisProxy | undefined;
const prefix = uniquePrefix();

afterEach(async () => {
  await limiter?.close();
  await proxy?.stop();
  limiter = undefined;
  proxy = undefined;
  await deleteKeys(prefix);
});

/** A limiter plus a promise for its next reported Redis error. */
function make(url: string, opts: Partial<RedisLimiterOptions> = {}) {
  const errors: unknown[] = [];
  let wake: (() => void) | undefined;
  const l = createRedisLimiter({
    url,
    keyPrefix: prefix,
    onOutage: "local",
    commandTimeoutMs: 300,
    ...opts,
    onRedisError: (err) => {
      errors.push(err);
      wake?.();
    },
  });
  limiter = l;
  const nextError = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  return { l, errors, nextError };
}

describe("redis outage", () => {
  it("falls back to local rate counters and refuses budgets, without waiting", async () => {
    const { l, errors, nextError } = make(`redis://127.0.0.1:${await closedPort()}`);
    await nextError();
    const started = Date.now();
    const a = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    const b = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    const c = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    const d = await l.admit({ scopes: budgeted, estimatedTokens: 0, maxCostUsd: 0.01 });
    expect(Date.now() - started).toBeLessThan(250);
    expect(a.ok && a.ticket.store).toBe("memory");
    expect(b.ok).toBe(true);
    expect(c).toMatchObject({ ok: false, reason: "requests" });
    expect(d).toMatchObject({ ok: false, reason: "budget", retryAfterSeconds: 1 });
    if (!d.ok) expect(d.message).toMatch(/budget store is unavailable/);
    if (a.ok) l.settle(a.ticket, { tokens: 0, costUsd: null });
    await expect(l.status(rated[0]!)).rejects.toThrow(/unavailable/);
    expect(errors.length).toBeGreaterThan(0);
    expect(await l.ready(50)).toBe(false);
  });

  it("refuses rate-limited requests when configured to fail closed", async () => {
    const { l, nextError } = make(`redis://127.0.0.1:${await closedPort()}`, { onOutage: "closed" });
    await nextError();
    const r = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    expect(r).toMatchObject({ ok: false, reason: "unavailable", retryAfterSeconds: 1, scopeId: "key:k1" });
    if (!r.ok) {
      expect(r.message).toMatch(/limit store is unavailable/);
      expect(r.headers).toContainEqual(["retry-after", "1"]);
    }
    // A request with no limits does not need the store.
    expect((await l.admit({ scopes: [], estimatedTokens: 0, maxCostUsd: null })).ok).toBe(true);
  });

  it("recovers when Redis comes back, and sends settles held during the outage", async () => {
    proxy = await startRedisProxy();
    const port = proxy.port;
    const { l, nextError } = make(proxy.url);
    expect(await l.ready()).toBe(true);
    const scopes: LimitScope[] = [{ id: "instance:agent-1", rate: { maxConcurrent: 1 } }];

    const held = await l.admit({ scopes, estimatedTokens: 0, maxCostUsd: null });
    expect(held.ok && held.ticket.store).toBe("redis");

    const down = nextError();
    await proxy.stop();
    await down;
    const during = await l.admit({ scopes: budgeted, estimatedTokens: 0, maxCostUsd: 0.01 });
    expect(during).toMatchObject({ ok: false, reason: "budget" });
    const local = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    expect(local.ok && local.ticket.store).toBe("memory");
    // Not sent while disconnected: held and sent on reconnect.
    if (held.ok) l.settle(held.ticket, { tokens: 0, costUsd: null });

    proxy = await startRedisProxy(port);
    expect(await l.ready(10_000)).toBe(true);
    const after = await l.admit({ scopes, estimatedTokens: 0, maxCostUsd: null });
    expect(after.ok && after.ticket.store).toBe("redis");
    const budget = await l.admit({ scopes: budgeted, estimatedTokens: 0, maxCostUsd: 0.01 });
    expect(budget.ok && budget.ticket.store).toBe("redis");
  });

  it("a hung Redis costs one command timeout (that request is refused), then falls back", async () => {
    proxy = await startRedisProxy();
    const { l, errors, nextError } = make(proxy.url, { commandTimeoutMs: 200, backoffMs: 60_000 });
    expect(await l.ready()).toBe(true);
    expect((await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null })).ok).toBe(true);
    proxy.stall();
    const failed = nextError();
    const started = Date.now();
    const r = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    await failed;
    // Without the command timeout the call would wait as long as Redis hangs (here, for good);
    // the bound leaves room for a host that stalls this process for a second or more.
    expect(Date.now() - started).toBeLessThan(5_000);
    // The timed-out script may have run in Redis: admitting this request locally could overshoot.
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe("unavailable");
    expect(String(errors.at(-1))).toMatch(/timed out/i);
    // Within the back-off the next call does not wait on Redis at all.
    const quick = Date.now();
    const next = await l.admit({ scopes: rated, estimatedTokens: 0, maxCostUsd: null });
    expect(next.ok && next.ticket.store).toBe("memory");
    expect(Date.now() - quick).toBeLessThan(100);
  });
});
