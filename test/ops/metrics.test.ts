// GET /metrics as a Prometheus server scrapes it: valid text exposition format, and after known
// traffic, request, token and cost counters per provider, model and instance that equal what was
// sent; latency, first-byte and overhead histograms; queue depth, breaker state and limiter Redis
// errors; and instance and model labels bounded so a large fleet cannot explode the series count.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../sdk/index.js";
import { costOf, MODELS, PRICES, startFacade, type FacadeEnv } from "../facade/harness.js";
import { freePort } from "../helpers/replicas.js";
import { createMetrics } from "../../server/src/metrics/metrics.js";
import type { UsageRecord } from "../../server/src/usage/record.js";
import {
  chat,
  follow,
  freshDatabase,
  instanceWithKey,
  post,
  scrape,
  waitForWatchers,
  type Feed,
} from "./harness.js";
import type { TestDatabase } from "../helpers/pg.js";
import { parseExposition, samples, sumOf, valueOf, type Exposition } from "./prom.js";
import { usageRecord } from "../helpers/records.js";

const BREAKER_THRESHOLD = 3;
const OPENAI_USAGE = { input: 100, output: 40 };
const ANTHROPIC_USAGE = { input: 50, output: 10, cacheRead: 5, cacheWrite: 3 };

let db: TestDatabase;
let env: FacadeEnv;
let feed: Feed;
let a: { instanceId: string; secret: string };
let b: { instanceId: string; secret: string };
let scraped: { contentType: string; text: string; exp: Exposition };
/** Every record of the traffic below, from the live feed (the database is not written yet). */
let records: RequestRecord[] = [];

beforeAll(async () => {
  const closedPort = await freePort();
  db = await freshDatabase("kg_ops_metrics");
  env = await startFacade({
    databaseUrl: db.url,
    providers: () => ({
      broken: {
        type: "openai-compatible",
        baseUrl: `http://127.0.0.1:${closedPort}/v1`,
        models: ["broken-model"],
      },
    }),
    config: {
      routing: {
        retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 10 },
        breaker: { failureThreshold: BREAKER_THRESHOLD, windowMs: 600_000, cooldownMs: 600_000 },
      },
      // Nothing is written during the test, so the queue depth is exactly the traffic sent.
      usage: { flushIntervalMs: 600_000, batchSize: 10_000 },
    },
  });
  a = await instanceWithKey(env.admin, { prefix: "met-a" });
  b = await instanceWithKey(env.admin, { prefix: "met-b" });
  feed = follow(env.admin);
  await waitForWatchers(env.gw.url, 1);

  env.fake.setUsage("openai", OPENAI_USAGE);
  env.fake.setUsage("anthropic", ANTHROPIC_USAGE);
  const replies = [
    await chat(env.gw.url, a.secret, MODELS.openai, "one"),
    await chat(env.gw.url, a.secret, MODELS.openai, "two"),
    await chat(env.gw.url, a.secret, MODELS.openai, "three", { stream: true }),
    await chat(env.gw.url, a.secret, MODELS.echo, "echo"),
    await post(
      env.gw.url,
      "/v1/messages",
      b.secret,
      { model: MODELS.anthropic, max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
      { "anthropic-version": "2023-06-01" },
    ),
  ];
  for (const r of replies) expect(r.status, r.text).toBe(200);
  env.fake.fail({ status: 500, on: "openai.chat" });
  const failed = await chat(env.gw.url, b.secret, MODELS.openai, "fails");
  expect(failed.status).toBe(500);
  for (let i = 0; i < BREAKER_THRESHOLD; i++) {
    const r = await chat(env.gw.url, b.secret, "broken-model", "unreachable");
    expect(r.status).toBe(502);
    replies.push(r);
  }
  replies.push(failed);
  for (const r of replies) await feed.until(r.id);
  records = [...feed.records];
  expect(records).toHaveLength(replies.length);
  scraped = await scrape(env.gw.url);
});
afterAll(async () => {
  feed?.stop();
  await env?.close();
  await db?.drop();
});

const ofProvider = (p: string) => records.filter((r) => r.providerId === p);

describe("/metrics after traffic", () => {
  it("is the Prometheus text format", () => {
    expect(scraped.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // Parsed strictly in beforeAll; every keygate family is typed and documented.
    const ours = [...scraped.exp.values()].filter(
      (f) => f.name.startsWith("keygate_") && !f.name.startsWith("keygate_process_"),
    );
    expect(ours.map((f) => f.name).sort()).toEqual(
      expect.arrayContaining([
        "keygate_breaker_state",
        "keygate_cost_usd_total",
        "keygate_limiter_redis_errors_total",
        "keygate_overhead_seconds",
        "keygate_request_duration_seconds",
        "keygate_request_errors_total",
        "keygate_requests_total",
        "keygate_time_to_first_byte_seconds",
        "keygate_tokens_total",
        "keygate_usage_queue_depth",
      ]),
    );
    for (const f of ours) {
      expect(f.help, f.name).toBeTruthy();
      expect(f.type, f.name).not.toBe("untyped");
    }
  });

  it("counts requests, tokens and cost by provider, model and instance, equal to what was sent", () => {
    const exp = scraped.exp;
    const at = (instance: string, provider: string, model: string) => ({ provider, model, instance });
    const aOpenai = at(a.instanceId, "openai", MODELS.openai);
    expect(valueOf(exp, "keygate_requests_total", { ...aOpenai, status: "2xx" })).toBe(3);
    expect(valueOf(exp, "keygate_tokens_total", { ...aOpenai, kind: "input" })).toBe(3 * OPENAI_USAGE.input);
    expect(valueOf(exp, "keygate_tokens_total", { ...aOpenai, kind: "output" })).toBe(
      3 * OPENAI_USAGE.output,
    );
    expect(valueOf(exp, "keygate_tokens_total", { ...aOpenai, kind: "cache_read" })).toBeUndefined();
    expect(valueOf(exp, "keygate_cost_usd_total", aOpenai)).toBeCloseTo(
      3 * costOf(PRICES[MODELS.openai]!, OPENAI_USAGE),
      12,
    );

    const bAnthropic = at(b.instanceId, "anthropic", MODELS.anthropic);
    expect(valueOf(exp, "keygate_requests_total", { ...bAnthropic, status: "2xx" })).toBe(1);
    expect(valueOf(exp, "keygate_tokens_total", { ...bAnthropic, kind: "input" })).toBe(
      ANTHROPIC_USAGE.input,
    );
    expect(valueOf(exp, "keygate_tokens_total", { ...bAnthropic, kind: "output" })).toBe(
      ANTHROPIC_USAGE.output,
    );
    expect(valueOf(exp, "keygate_tokens_total", { ...bAnthropic, kind: "cache_read" })).toBe(
      ANTHROPIC_USAGE.cacheRead,
    );
    expect(valueOf(exp, "keygate_tokens_total", { ...bAnthropic, kind: "cache_write" })).toBe(
      ANTHROPIC_USAGE.cacheWrite,
    );
    expect(valueOf(exp, "keygate_cost_usd_total", bAnthropic)).toBeCloseTo(
      costOf(PRICES[MODELS.anthropic]!, ANTHROPIC_USAGE),
      12,
    );

    expect(
      valueOf(exp, "keygate_requests_total", { ...at(b.instanceId, "openai", MODELS.openai), status: "5xx" }),
    ).toBe(1);
    expect(
      valueOf(exp, "keygate_requests_total", {
        ...at(b.instanceId, "broken", "broken-model"),
        status: "5xx",
      }),
    ).toBe(BREAKER_THRESHOLD);
    expect(
      valueOf(exp, "keygate_requests_total", { ...at(a.instanceId, "echo", MODELS.echo), status: "2xx" }),
    ).toBe(1);
    // Nothing counted twice or elsewhere.
    expect(sumOf(exp, "keygate_requests_total")).toBe(records.length);
    for (const kind of ["input", "output", "cache_read", "cache_write"] as const) {
      const field = {
        input: "inputTokens",
        output: "outputTokens",
        cache_read: "cacheReadTokens",
        cache_write: "cacheWriteTokens",
      }[kind];
      const sent = records.reduce((n, r) => n + Number(r[field as keyof RequestRecord] as bigint), 0);
      expect(sumOf(exp, "keygate_tokens_total", { kind }), kind).toBe(sent);
    }
  });

  it("counts errors by provider and error class", () => {
    for (const provider of ["openai", "broken"]) {
      const failed = ofProvider(provider).filter((r) => r.errorClass !== "");
      expect(failed.length, provider).toBeGreaterThan(0);
      const cls = failed[0]!.errorClass;
      expect(valueOf(scraped.exp, "keygate_request_errors_total", { provider, error_class: cls })).toBe(
        failed.length,
      );
    }
    expect(sumOf(scraped.exp, "keygate_request_errors_total")).toBe(
      records.filter((r) => r.errorClass).length,
    );
  });

  it("has latency and time-to-first-byte histograms per provider, and the overhead histogram", () => {
    const exp = scraped.exp;
    for (const provider of ["openai", "anthropic", "broken", "echo"]) {
      const recs = ofProvider(provider);
      const latency = { provider };
      expect(valueOf(exp, "keygate_request_duration_seconds_count", latency), provider).toBe(recs.length);
      expect(valueOf(exp, "keygate_request_duration_seconds_sum", latency)).toBeCloseTo(
        recs.reduce((s, r) => s + r.latencyMs / 1000, 0),
        6,
      );
      const firstByte = recs.filter((r) => r.ttfbMs !== undefined);
      expect(valueOf(exp, "keygate_time_to_first_byte_seconds_count", latency) ?? 0, provider).toBe(
        firstByte.length,
      );
      const buckets = samples(exp, "keygate_request_duration_seconds_bucket", latency);
      expect(buckets.length).toBeGreaterThan(5);
    }
    expect(valueOf(exp, "keygate_overhead_seconds_count")).toBe(records.length);
    expect(valueOf(exp, "keygate_overhead_seconds_sum")).toBeGreaterThan(0);
  });

  it("reports the usage queue depth, breaker states and limiter Redis errors", () => {
    const exp = scraped.exp;
    expect(exp.get("keygate_usage_queue_depth")?.type).toBe("gauge");
    // Every record is still queued (the writer's interval is longer than this test).
    expect(valueOf(exp, "keygate_usage_queue_depth")).toBe(records.length);
    expect(exp.get("keygate_breaker_state")?.type).toBe("gauge");
    expect(valueOf(exp, "keygate_breaker_state", { provider: "broken" })).toBe(2);
    expect(valueOf(exp, "keygate_breaker_state", { provider: "openai" })).toBe(0);
    expect(exp.get("keygate_limiter_redis_errors_total")?.type).toBe("counter");
    expect(valueOf(exp, "keygate_limiter_redis_errors_total")).toBe(0);
  });
});

describe("label cardinality", () => {
  const record = (instanceId: string, model: string): UsageRecord =>
    usageRecord({
      id: `${instanceId}-${model}`,
      instanceId,
      keyId: "k",
      requestedModel: model,
      servedModel: model,
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.5,
      latencyMs: 20,
      ttfbMs: 5,
      overheadMs: 0.2,
    });

  it("reports instances and models past the cap as _other, with their values kept", async () => {
    const m = createMetrics(
      {
        queueDepth: () => 42,
        buffered: () => 0,
        dropped: () => 0,
        breakerStates: () => [{ provider: "p", state: "half_open" }],
        watchers: () => 3,
      },
      { maxInstances: 3, maxModels: 2 },
    );
    for (const inst of ["i1", "i2", "i3", "i4", "i5"]) m.observe(record(inst, "m1"));
    m.observe(record("i1", "m2"));
    m.observe(record("i1", "m3"));
    m.observe(record("i1", "m4"));
    const exp = parseExposition((await m.render()).body);

    const requests = samples(exp, "keygate_requests_total");
    expect(new Set(requests.map((s) => s.labels.instance))).toEqual(new Set(["i1", "i2", "i3", "_other"]));
    expect(new Set(requests.map((s) => s.labels.model))).toEqual(new Set(["m1", "m2", "_other"]));
    expect(sumOf(exp, "keygate_requests_total", { instance: "_other" })).toBe(2);
    expect(sumOf(exp, "keygate_tokens_total", { instance: "_other", kind: "input" })).toBe(20);
    expect(sumOf(exp, "keygate_requests_total", { model: "_other" })).toBe(2);
    // Without TLS there is no certificate to report.
    expect(samples(exp, "keygate_tls_certificate_expiry_timestamp_seconds")).toEqual([]);
    expect(sumOf(exp, "keygate_cost_usd_total")).toBeCloseTo(8 * 0.5, 12);
    expect(sumOf(exp, "keygate_requests_total")).toBe(8);

    expect(valueOf(exp, "keygate_usage_queue_depth")).toBe(42);
    expect(valueOf(exp, "keygate_breaker_state", { provider: "p" })).toBe(1);
    expect(valueOf(exp, "keygate_watchers")).toBe(3);
  });
});

describe("the format reader itself", () => {
  it("refuses what a Prometheus server would refuse", () => {
    const ok = '# HELP x_total A counter.\n# TYPE x_total counter\nx_total{a="b\\"c"} 1\n';
    expect(parseExposition(ok).get("x_total")?.samples[0]?.labels).toEqual({ a: 'b"c' });
    for (const bad of [
      "x_total 1",
      "x-total 1\n",
      'x{a="1"} one\n',
      "x{a=1} 1\n",
      'x{a="1",a="2"} 1\n',
      "x 1\ny 1\nx 2\n",
      "# TYPE x counter\n# TYPE x gauge\nx 1\n",
      "# TYPE x counter\nx -1\n",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    ]) {
      expect(() => parseExposition(bad), JSON.stringify(bad)).toThrow();
    }
  });
});
