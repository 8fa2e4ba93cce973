// Runs wrk (the Debian package) with bench/post.lua and reads the JSON summary the script prints.
import { join } from "node:path";
import { runProc } from "./procs.js";
import type { RequestSpec } from "./request-spec.js";

export interface WrkRun {
  /** Completed responses, whatever their status. */
  requests: number;
  /** Responses with a status other than 2xx/3xx. */
  statusErrors: number;
  /** Connect, read, write and timeout errors. */
  socketErrors: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface WrkLoad {
  threads: number;
  connections: number;
  durationS: number;
}

function num(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== "number") throw new Error(`wrk summary lacks ${k}`);
  return v;
}

export function parseWrkSummary(stdout: string): WrkRun {
  const line = stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const o = JSON.parse(line.slice("BENCH_RESULT ".length)) as Record<string, unknown>;
  const durationS = num(o, "durationUs") / 1e6;
  const requests = num(o, "requests");
  return {
    requests,
    statusErrors: num(o, "status"),
    socketErrors: num(o, "connect") + num(o, "read") + num(o, "write") + num(o, "timeout"),
    durationS,
    rps: requests / durationS,
    p50Ms: num(o, "p50Us") / 1000,
    p99Ms: num(o, "p99Us") / 1000,
    meanMs: num(o, "meanUs") / 1000,
  };
}

export async function runWrk(root: string, spec: RequestSpec, load: WrkLoad): Promise<WrkRun> {
  const headers = Object.entries(spec.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
  const out = await runProc(
    {
      name: "wrk",
      command: "wrk",
      args: [
        `-t${load.threads}`,
        `-c${load.connections}`,
        `-d${load.durationS}s`,
        "--latency",
        "-s",
        join(root, "bench", "post.lua"),
        spec.url,
      ],
      // The credential travels in the environment, not on the command line.
      env: { PATH: process.env.PATH, BENCH_BODY: spec.body, BENCH_HEADERS: headers },
    },
    (load.durationS + 30) * 1000,
  );
  if (out.code !== 0) throw new Error(`wrk exited with ${out.code}: ${out.stderr || out.stdout}`);
  return assertAnswered(parseWrkSummary(out.stdout), spec.url);
}

/**
 * The run, unless some responses had an error status: their figures would describe a failure path
 * (a wrong key, a missing model, an overloaded gateway), not the one measured, so the bench stops.
 */
export function assertAnswered(run: WrkRun, url: string): WrkRun {
  if (run.statusErrors > 0)
    throw new Error(`${run.statusErrors} of ${run.requests} responses from ${url} had an error status`);
  return run;
}

/** "wrk 4.1.0 ..." from `wrk -v`, which prints its version and exits 1. */
export async function wrkVersion(): Promise<string> {
  const out = await runProc(
    { name: "wrk -v", command: "wrk", args: ["-v"], env: { PATH: process.env.PATH } },
    5000,
  );
  return (
    (out.stdout + out.stderr)
      .split("\n")[0]
      ?.replace(/\s+Copyright.*$/, "")
      .trim() ?? "unknown"
  );
}
