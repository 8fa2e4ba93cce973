// Holds many streaming requests open at once, run in its own process. Opens --streams streams (at
// most --ramp connecting at a time, so the listen backlog is not the thing measured), reads and
// discards their chunks, prints one JSON line once every stream is open or has failed (or, at
// --open-timeout-s, with however many are open by then), and keeps them open until SIGTERM or
// --max-seconds.
// Usage: BENCH_REQUEST='{"url":...,"headers":{...},"body":...}' node dist/bench-hold.js --streams 1000
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { Pool } from "undici";
import type { HoldResult } from "./client-results.js";
import { emit, readSpec } from "./request-spec.js";

const opts = new Command("bench-hold")
  .option("--streams <n>", "streams to hold open", (v) => Number(v), 1000)
  .option("--ramp <n>", "streams connecting at the same time", (v) => Number(v), 100)
  .option(
    "--open-timeout-s <n>",
    "report after this many seconds even if not all are open",
    (v) => Number(v),
    60,
  )
  .option("--max-seconds <n>", "close everything after this many seconds", (v) => Number(v), 300)
  .parse()
  .opts<{ streams: number; ramp: number; openTimeoutS: number; maxSeconds: number }>();

const spec = readSpec(process.env);
const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: opts.streams, pipelining: 1 });
const request = {
  path: url.pathname + url.search,
  method: "POST" as const,
  headers: { ...spec.headers, "content-type": "application/json" },
  body: spec.body,
};
const t0 = performance.now();
const result: HoldResult = { open: 0, failed: 0, started: 0, openMs: 0 };

/** Resolves once the stream's headers are in; the body keeps flowing (and is discarded) after that. */
async function openOne(): Promise<void> {
  try {
    const res = await pool.request(request);
    res.body.on("error", () => undefined).resume();
    if (res.statusCode === 200) result.open++;
    else result.failed++;
  } catch {
    result.failed++;
  }
}

let next = 0;
let reported = false;
async function opener(): Promise<void> {
  // Once the result is out, no new stream is started: the figures describe what was reported.
  while (next < opts.streams && !reported) {
    next++;
    await openOne();
  }
}

const shutdown = (): void => {
  void pool.destroy().finally(() => process.exit(0));
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
setTimeout(shutdown, opts.maxSeconds * 1000).unref();

let openTimer: NodeJS.Timeout | undefined;
await Promise.race([
  Promise.all(Array.from({ length: Math.min(opts.ramp, opts.streams) }, opener)),
  // A gateway that queues streams instead of opening them must not stall the benchmark.
  new Promise((resolve) => (openTimer = setTimeout(resolve, opts.openTimeoutS * 1000))),
]);
clearTimeout(openTimer);
reported = true;
result.openMs = performance.now() - t0;
result.started = next;
emit(result);
// Stay alive with the streams open until told to stop.
setInterval(() => undefined, 1 << 30);
