// Prometheus metrics. Label sets are bounded: at most `maxInstances` distinct instance labels
// (later ones are reported as "_other"), and models likewise, so a fleet of thousands of agents
// cannot blow up the scrape.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { counterFamily, histogramFamily, type HistogramSeries } from "./hot.js";
import type { UsageRecord } from "../usage/record.js";

export interface GatewayMetrics {
  observe(rec: UsageRecord): void;
  limiterRedisError(): void;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricSources {
  queueDepth: () => number;
  buffered: () => number;
  dropped: () => number;
  breakerStates: () => { provider: string; state: "closed" | "open" | "half_open" }[];
  watchers: () => number;
  /** When the served TLS certificate expires (epoch ms); absent without TLS. */
  tlsExpiresAt?: () => number | undefined;
}

function boundedLabel(max: number): (v: string) => string {
  const seen = new Set<string>();
  return (v) => {
    if (seen.has(v)) return v;
    if (seen.size >= max) return "_other";
    seen.add(v);
    return v;
  };
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

export function createMetrics(
  src: MetricSources,
  opts: { maxInstances?: number; maxModels?: number } = {},
): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "keygate_process_" });
  const instance = boundedLabel(opts.maxInstances ?? 500);
  const model = boundedLabel(opts.maxModels ?? 200);

  // Updated on every request, so kept as plain numbers (see hot.ts); prom-client covers the rest.
  const requests = counterFamily({
    name: "keygate_requests_total",
    help: "Inference requests completed, by provider, model, instance and status class.",
    labelNames: ["provider", "model", "instance", "status"],
  });
  const errors = counterFamily({
    name: "keygate_request_errors_total",
    help: "Inference requests that ended in an error, by provider and error class.",
    labelNames: ["provider", "error_class"],
  });
  const tokens = counterFamily({
    name: "keygate_tokens_total",
    help: "Tokens used, by provider, model, instance and kind (input, output, cache_read, cache_write).",
    labelNames: ["provider", "model", "instance", "kind"],
  });
  const cost = counterFamily({
    name: "keygate_cost_usd_total",
    help: "Cost in USD of requests with a known price, by provider, model and instance.",
    labelNames: ["provider", "model", "instance"],
  });
  const latency = histogramFamily({
    name: "keygate_request_duration_seconds",
    help: "Total request latency as the client saw it.",
    labelNames: ["provider"],
    buckets: LATENCY_BUCKETS,
  });
  const ttfb = histogramFamily({
    name: "keygate_time_to_first_byte_seconds",
    help: "Time from request arrival to the first response byte sent to the client.",
    labelNames: ["provider"],
    buckets: LATENCY_BUCKETS,
  });
  const overhead = histogramFamily({
    name: "keygate_overhead_seconds",
    help: "Time spent inside keygate per request, excluding the upstream.",
    labelNames: [],
    buckets: OVERHEAD_BUCKETS,
  });
  const overheadAll = overhead.series([]);
  const hot = [requests, errors, tokens, cost, latency, ttfb, overhead];
  const redisErrors = new Counter({
    name: "keygate_limiter_redis_errors_total",
    help: "Errors talking to Redis from the rate limiter and budgets.",
    registers: [registry],
  });
  new Gauge({
    name: "keygate_usage_queue_depth",
    help: "Usage records waiting to be written.",
    registers: [registry],
    collect() {
      this.set(src.queueDepth());
    },
  });
  new Gauge({
    name: "keygate_usage_buffered_records",
    help: "Usage records held back by a failing database.",
    registers: [registry],
    collect() {
      this.set(src.buffered());
    },
  });
  new Gauge({
    name: "keygate_usage_dropped_records",
    help: "Usage records dropped because the buffer was full (since start).",
    registers: [registry],
    collect() {
      this.set(src.dropped());
    },
  });
  new Gauge({
    name: "keygate_watchers",
    help: "Live request feed subscribers on this replica.",
    registers: [registry],
    collect() {
      this.set(src.watchers());
    },
  });
  const tlsExpiresAt = src.tlsExpiresAt;
  // Registered only with TLS: an unlabelled gauge always has a value, and 0 would read as expired.
  if (tlsExpiresAt) {
    new Gauge({
      name: "keygate_tls_certificate_expiry_timestamp_seconds",
      help: "When the TLS certificate being served expires (Unix time).",
      registers: [registry],
      collect() {
        const at = tlsExpiresAt();
        if (at !== undefined) this.set(Math.floor(at / 1000));
      },
    });
  }
  new Gauge({
    name: "keygate_breaker_state",
    help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
    labelNames: ["provider"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const b of src.breakerStates())
        this.set({ provider: b.provider }, b.state === "open" ? 2 : b.state === "half_open" ? 1 : 0);
    },
  });

  // Series looked up once per (provider, model, instance) rather than per request.
  type Counted = { value: number };
  type Children = {
    requests: Counted[];
    input: Counted;
    output: Counted;
    cacheRead: Counted;
    cacheWrite: Counted;
    cost: Counted;
    latency: HistogramSeries;
    ttfb: HistogramSeries;
  };
  const children = new Map<string, Children>();
  const childrenFor = (provider: string, m: string, inst: string): Children => {
    const key = `${provider}\u0000${m}\u0000${inst}`;
    let c = children.get(key);
    if (!c) {
      c = {
        requests: [],
        input: tokens.series([provider, m, inst, "input"]),
        output: tokens.series([provider, m, inst, "output"]),
        cacheRead: tokens.series([provider, m, inst, "cache_read"]),
        cacheWrite: tokens.series([provider, m, inst, "cache_write"]),
        cost: cost.series([provider, m, inst]),
        latency: latency.series([provider]),
        ttfb: ttfb.series([provider]),
      };
      children.set(key, c);
    }
    return c;
  };

  return {
    observe(r) {
      const provider = r.providerId || "none";
      const m = model(r.servedModel || r.requestedModel || "none");
      const inst = instance(r.instanceId || "none");
      const c = childrenFor(provider, m, inst);
      const status = Math.floor(r.statusCode / 100);
      (c.requests[status] ??= requests.series([provider, m, inst, `${status}xx`])).value++;
      if (r.errorClass) errors.series([provider, r.errorClass]).value++;
      if (r.inputTokens) c.input.value += r.inputTokens;
      if (r.outputTokens) c.output.value += r.outputTokens;
      if (r.cacheReadTokens) c.cacheRead.value += r.cacheReadTokens;
      if (r.cacheWriteTokens) c.cacheWrite.value += r.cacheWriteTokens;
      if (r.costUsd) c.cost.value += r.costUsd;
      c.latency.observe(r.latencyMs / 1000);
      if (r.ttfbMs !== null) c.ttfb.observe(r.ttfbMs / 1000);
      if (r.overheadMs !== undefined) overheadAll.observe(r.overheadMs / 1000);
    },
    limiterRedisError: () => redisErrors.inc(),
    async render() {
      const base = await registry.metrics();
      return { contentType: registry.contentType, body: base + hot.map((f) => f.render()).join("") };
    },
  };
}
