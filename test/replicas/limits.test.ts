// Limits and budgets hold exactly across three gateway processes sharing one Redis: concurrent
// requests spread round-robin over A, B and C never get more than the limit allows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BudgetWindow } from "../../sdk/index.js";
import { spawnFakeUpstream, type SpawnedFake } from "../fakes/remote.js";
import { ensureBuilt, startReplicas, type ReplicaSet } from "../helpers/replicas.js";
import {
  ECHO_PROVIDERS,
  chat,
  instanceWithKey,
  openAiError,
  retryAfter,
  waitFor,
  stopReplicasAfter,
} from "./support.js";

// These tests count exactly what a healthy Redis admits. A starved CI host has held a limiter
// reply past the 2 s default, and a replica then counts locally, as redis.onOutage says: a test of
// outages, not of these sums (test/replicas/outage.test.ts covers that).
const PATIENT_REDIS = { commandTimeoutMs: 30_000 };

describe("global requests per minute across replicas", () => {
  let set: ReplicaSet;

  beforeAll(async () => {
    set = await startReplicas({
      config: {
        providers: ECHO_PROVIDERS,
        rateLimiting: { global: { requestsPerMinute: 60 } },
        redis: PATIENT_REDIS,
      },
    });
  });

  afterAll(stopReplicasAfter(() => set));

  it("300 concurrent requests over A, B and C: exactly 60 succeed, 240 get 429 with Retry-After", async () => {
    const { secret } = await instanceWithKey(set.admin, "busy-agent");
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) => chat(set.replicas[i % 3]!.url, secret)),
    );
    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    expect(ok).toHaveLength(60);
    expect(limited).toHaveLength(240);
    for (const r of limited) {
      retryAfter(r);
      const err = openAiError(r);
      expect(err.code).toBe("rate_limit_exceeded");
      expect(err.type).toBe("requests");
    }
  });
});

describe("instance budget across replicas", () => {
  let set: ReplicaSet;
  let fake: SpawnedFake;

  beforeAll(async () => {
    await ensureBuilt();
    fake = await spawnFakeUpstream();
    // One output token per answer at $100,000 per million output tokens: exactly $0.10 a request.
    await fake.client.setUsage("openai", { input: 0, output: 1 });
    set = await startReplicas({
      config: {
        providers: {
          fake: {
            type: "openai",
            baseUrl: `${fake.url}/v1`,
            apiKey: "sk-upstream-replica-test",
            models: ["bench-model"],
            default: true,
          },
        },
        pricing: { "bench-model": { input: 0, output: 100_000 } },
        redis: PATIENT_REDIS,
      },
    });
  });

  const stopSet = stopReplicasAfter(() => set);
  afterAll(async () => {
    await stopSet();
    await fake?.stop();
  });

  it("a $1.00 budget, 50 concurrent $0.10 requests over A, B and C: spend stays within $0.90..$1.00", async () => {
    await set.admin.createInstance({ instanceId: "budget-agent" });
    await set.replicas[0]!.admin.updateInstance({
      instance: { id: "budget-agent", policy: { budgets: [{ window: BudgetWindow.TOTAL, limitUsd: 1 }] } },
      updateMask: { paths: ["policy.budgets"] },
    });
    const { secret } = await set.admin.createKey({ instanceId: "budget-agent" });

    // max_tokens 1: the reservation is the same $0.10 the answer costs.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => chat(set.replicas[i % 3]!.url, secret, { model: "bench-model" })),
    );
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThanOrEqual(9);
    expect(ok.length).toBeLessThanOrEqual(10);
    for (const r of refused) {
      expect(r.status, r.text).toBe(429);
      expect(openAiError(r).code).toBe("insufficient_quota");
    }

    // Every request (served or refused) is recorded; wait for the batched writers of all three.
    const row = await waitFor("all 50 usage records", async () => {
      const { rows } = await set.admin.queryUsage({ filter: { instanceIds: ["budget-agent"] } });
      const r = rows[0];
      return r && r.requests === 50n ? r : undefined;
    });
    expect(row.costUsd).toBeLessThanOrEqual(1 + 1e-9);
    expect(row.costUsd).toBeGreaterThanOrEqual(0.9 - 1e-9);
    expect(row.costUsd).toBeCloseTo(ok.length * 0.1, 9);
    expect(row.outputTokens).toBe(BigInt(ok.length));
    expect(row.unpricedRequests).toBe(0n);

    // What the upstream saw matches: only admitted requests went out, each with max_tokens 1.
    const upstream = (await fake.client.requests()).filter((r) => r.route === "openai.chat");
    expect(upstream).toHaveLength(ok.length);
    for (const r of upstream) {
      expect(r.body).toMatchObject({ model: "bench-model", max_tokens: 1 });
      // The real credential went upstream, never the virtual key.
      expect(r.headers.authorization).toBe("Bearer sk-upstream-replica-test");
      expect(r.raw).not.toContain(secret);
    }
  });
});
