// Streaming latency client, run in its own process: sends N streaming requests one after another
// over one keep-alive connection and prints, as one JSON line, each request's time to the first
// body byte and its total time in milliseconds.
// Usage: BENCH_REQUEST='{"url":...,"headers":{...},"body":...}' node dist/bench-ttfb.js --requests 200
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { Client } from "undici";
import type { TtfbResult } from "./client-results.js";
import { emit, readSpec } from "./request-spec.js";

const opts = new Command("bench-ttfb")
  .option("--requests <n>", "measured requests", (v) => Number(v), 200)
  .option("--warmup <n>", "unmeasured requests first", (v) => Number(v), 3)
  .option("--timeout-s <n>", "give up after this many seconds", (v) => Number(v), 300)
  .parse()
  .opts<{ requests: number; warmup: number; timeoutS: number }>();

const spec = readSpec(process.env);
const url = new URL(spec.url);
const client = new Client(url.origin, { pipelining: 1 });
const deadline = performance.now() + opts.timeoutS * 1000;
const result: TtfbResult = { ttfbMs: [], totalMs: [], errors: 0 };

async function once(): Promise<{ ttfb: number; total: number } | undefined> {
  const t0 = performance.now();
  const res = await client.request({
    path: url.pathname + url.search,
    method: "POST",
    headers: { ...spec.headers, "content-type": "application/json" },
    body: spec.body,
  });
  let ttfb = -1;
  let tail = "";
  for await (const chunk of res.body) {
    if (ttfb < 0) ttfb = performance.now() - t0;
    // Only the end matters: a complete stream finishes with the [DONE] sentinel.
    tail = (tail + (chunk as Buffer).toString("utf8")).slice(-64);
  }
  const total = performance.now() - t0;
  if (res.statusCode !== 200 || ttfb < 0 || !tail.includes("[DONE]")) return undefined;
  return { ttfb, total };
}

for (let i = 0; i < opts.warmup + opts.requests && performance.now() < deadline; i++) {
  const r = await once().catch(() => undefined);
  if (i < opts.warmup) continue;
  if (!r) {
    result.errors++;
    continue;
  }
  result.ttfbMs.push(r.ttfb);
  result.totalMs.push(r.total);
}
await client.close();
emit(result);
