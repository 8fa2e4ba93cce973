// Redis goes away under three gateway processes and comes back. The Redis here is a private
// redis-server on its own port (the shared one serves other suites), killed with SIGKILL.
// onOutage "local": rate limits fall back to local counters, budgets refuse (fail closed).
// onOutage "closed": rate-limited requests are refused with 503. Either way no process dies,
// /readyz says why, and service recovers once Redis is back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BudgetWindow } from "../../sdk/index.js";
import { startPrivateRedis, startReplicas, type PrivateRedis, type ReplicaSet } from "../helpers/replicas.js";
import {
  ECHO_PROVIDERS,
  chat,
  check,
  healthz,
  instanceWithKey,
  openAiError,
  readyz,
  retryAfter,
  waitFor,
  stopReplicasAfter,
} from "./support.js";

let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis();
});

afterAll(async () => {
  await redis?.stop();
});

function configFor(onOutage: "local" | "closed"): Record<string, unknown> {
  return {
    providers: ECHO_PROVIDERS,
    // Every request is rate-limited (high enough never to refuse here).
    rateLimiting: { global: { requestsPerMinute: 100_000 } },
    redis: { onOutage },
  };
}

async function startWith(onOutage: "local" | "closed"): Promise<ReplicaSet> {
  if (!redis.running()) await redis.restart();
  return startReplicas({ redisUrl: redis.url, config: configFor(onOutage) });
}

/** Every replica still runs, is live, and reports Redis (only Redis) as the problem. */
async function expectDegradedButAlive(set: ReplicaSet): Promise<void> {
  for (const r of set.replicas) {
    expect(r.alive(), `replica ${r.name} exited:\n${r.output()}`).toBe(true);
    expect(await healthz(r.url)).toBe(200);
    const ready = await readyz(r.url);
    expect(ready.status).toBe(503);
    expect(check(ready, "redis")).toBe(false);
    expect(check(ready, "database")).toBe(true);
  }
}

async function killRedisAndWait(set: ReplicaSet): Promise<void> {
  await redis.kill();
  await waitFor("every replica to notice Redis is gone", async () => {
    const states = await Promise.all(set.replicas.map((r) => readyz(r.url)));
    return states.every((s) => check(s, "redis") === false) ? true : undefined;
  });
}

async function restartRedisAndWait(set: ReplicaSet): Promise<void> {
  await redis.restart();
  await waitFor("every replica to report ready again", async () => {
    const states = await Promise.all(set.replicas.map((r) => readyz(r.url)));
    return states.every((s) => s.status === 200 && check(s, "redis") === true) ? true : undefined;
  });
}

describe('redis.onOutage "local"', () => {
  let set: ReplicaSet;

  beforeAll(async () => {
    set = await startWith("local");
  });

  afterAll(stopReplicasAfter(() => set));

  it("keeps serving rate-limited requests, refuses budget-limited ones, and recovers", async () => {
    const limited = await instanceWithKey(set.admin, "rate-agent");
    const budgeted = await instanceWithKey(set.admin, "budget-agent", {
      budgets: [{ window: BudgetWindow.DAILY, limitUsd: 100 }],
    });
    for (const r of set.replicas) {
      expect((await chat(r.url, limited.secret)).status).toBe(200);
      expect((await chat(r.url, budgeted.secret)).status).toBe(200);
    }

    await killRedisAndWait(set);
    for (const r of set.replicas) {
      for (let i = 0; i < 3; i++) {
        const served = await chat(r.url, limited.secret);
        expect(served.status, `${r.name}: ${served.text}`).toBe(200);
      }
      const refused = await chat(r.url, budgeted.secret);
      expect([429, 503], `${r.name}: ${refused.text}`).toContain(refused.status);
      retryAfter(refused);
      expect(openAiError(refused).message).toMatch(/budget/i);
    }
    await expectDegradedButAlive(set);

    await restartRedisAndWait(set);
    for (const r of set.replicas) {
      await waitFor(`${r.name} to admit budget-limited requests again`, async () =>
        (await chat(r.url, budgeted.secret)).status === 200 ? true : undefined,
      );
      expect((await chat(r.url, limited.secret)).status).toBe(200);
      expect(r.alive()).toBe(true);
    }
  });
});

describe('redis.onOutage "closed"', () => {
  let set: ReplicaSet;

  beforeAll(async () => {
    set = await startWith("closed");
  });

  afterAll(stopReplicasAfter(() => set));

  it("refuses rate-limited requests with 503 while Redis is away, and recovers", async () => {
    const limited = await instanceWithKey(set.admin, "rate-agent");
    for (const r of set.replicas) expect((await chat(r.url, limited.secret)).status).toBe(200);

    await killRedisAndWait(set);
    for (const r of set.replicas) {
      const refused = await chat(r.url, limited.secret);
      expect(refused.status, `${r.name}: ${refused.text}`).toBe(503);
      const err = openAiError(refused);
      expect(err.type).toBe("server_error");
      expect(err.message).toMatch(/limit/i);
      retryAfter(refused);
    }
    await expectDegradedButAlive(set);

    await restartRedisAndWait(set);
    for (const r of set.replicas) {
      await waitFor(`${r.name} to admit rate-limited requests again`, async () =>
        (await chat(r.url, limited.secret)).status === 200 ? true : undefined,
      );
      expect(r.alive()).toBe(true);
    }
  });
});
