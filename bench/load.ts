// Closed-loop load client for the soak, run in its own process: issues exactly --requests requests
// over --connections keep-alive connections, stops issuing at that count (or at the time limit) and
// waits for the ones in flight, so the number sent is exact and can be compared with usage records.
// The result is the last line of stdout; with --progress-every, progress lines come before it.
// Usage: BENCH_REQUEST='{"url":...,"headers":{...},"body":...}' node dist/bench-load.js --requests 1000000
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { Pool } from "undici";
import type { LoadResult } from "./client-results.js";
import { emit, readSpec } from "./request-spec.js";

const opts = new Command("bench-load")
  .requiredOption("--requests <n>", "requests to send", (v) => Number(v))
  .option("--connections <n>", "concurrent connections", (v) => Number(v), 50)
  .option("--max-seconds <n>", "stop issuing after this many seconds", (v) => Number(v), 3600)
  .option(
    "--progress-every <n>",
    'print {"progress":completed} every n completed requests',
    (v) => Number(v),
    0,
  )
  .parse()
  .opts<{ requests: number; connections: number; maxSeconds: number; progressEvery: number }>();

const spec = readSpec(process.env);
const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: opts.connections, pipelining: 1 });
const headers = { ...spec.headers, "content-type": "application/json" };
const path = url.pathname + url.search;
const t0 = performance.now();
const deadline = t0 + opts.maxSeconds * 1000;
const result: LoadResult = { sent: 0, ok: 0, failures: {}, durationMs: 0, timedOut: false };

let completed = 0;
const fail = (key: string): void => {
  result.failures[key] = (result.failures[key] ?? 0) + 1;
};
/** Progress lines let the harness sample the gateway's memory while the load is running. */
const progress = (): void => {
  completed++;
  if (opts.progressEvery > 0 && completed % opts.progressEvery === 0) emit({ progress: completed });
};

async function worker(): Promise<void> {
  while (result.sent < opts.requests) {
    if (performance.now() > deadline) {
      result.timedOut = true;
      return;
    }
    result.sent++;
    try {
      const res = await pool.request({ path, method: "POST", headers, body: spec.body });
      await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (res.statusCode === 200) result.ok++;
      else fail(String(res.statusCode));
    } catch {
      fail("error");
    }
    progress();
  }
}

await Promise.all(Array.from({ length: opts.connections }, worker));
result.durationMs = performance.now() - t0;
await pool.close();
emit(result);
