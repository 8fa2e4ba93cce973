// Runs the Node load clients (dist/bench-ttfb.js, bench-load.js, bench-hold.js), each in its own
// process, handing them the request through the environment.
import { join } from "node:path";
import {
  asHoldResult,
  asLoadResult,
  asTtfbResult,
  type HoldResult,
  type LoadResult,
  type TtfbResult,
} from "./client-results.js";
import { runProc, startProc, type Proc } from "./procs.js";
import { parseLastJson, specEnv, type RequestSpec } from "./request-spec.js";

function clientEnv(spec: RequestSpec): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...specEnv(spec) };
}

async function runClient(root: string, name: string, spec: RequestSpec, args: string[], timeoutMs: number) {
  const out = await runProc(
    {
      name,
      command: process.execPath,
      args: [join(root, "dist", `${name}.js`), ...args],
      env: clientEnv(spec),
    },
    timeoutMs,
  );
  if (out.code !== 0) throw new Error(`${name} exited with ${out.code}: ${out.stderr}`);
  return parseLastJson(out.stdout, name);
}

export async function runTtfbClient(root: string, spec: RequestSpec, requests: number): Promise<TtfbResult> {
  const timeoutS = 600;
  const args = ["--requests", String(requests), "--timeout-s", String(timeoutS)];
  return asTtfbResult(await runClient(root, "bench-ttfb", spec, args, (timeoutS + 30) * 1000));
}

/**
 * Runs the load client to the end. onProgress is called each time another `progressEvery` requests
 * have completed (0: never).
 */
export async function runLoadClient(
  root: string,
  spec: RequestSpec,
  o: { requests: number; connections: number; maxSeconds: number; progressEvery: number },
  onProgress: (completed: number) => void = () => undefined,
): Promise<LoadResult> {
  const proc = startProc({
    name: "bench-load",
    command: process.execPath,
    args: [
      join(root, "dist", "bench-load.js"),
      "--requests",
      String(o.requests),
      "--connections",
      String(o.connections),
      "--max-seconds",
      String(o.maxSeconds),
      "--progress-every",
      String(o.progressEvery),
    ],
    env: clientEnv(spec),
  });
  let last: unknown;
  proc.onLine((line) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof v === "object" && v !== null && "progress" in v) onProgress(Number(v.progress));
    else last = v;
  });
  const timer = setTimeout(() => void proc.stop(1000), (o.maxSeconds + 60) * 1000);
  const status = await proc.exited.finally(() => clearTimeout(timer));
  if (status.code !== 0)
    throw new Error(`bench-load exited with ${status.signal ?? status.code}\n${proc.tail()}`);
  return asLoadResult(last);
}

export interface HoldClient {
  proc: Proc;
  /** Resolves once every stream is open (or failed). */
  opened: Promise<HoldResult>;
}

export interface HoldOptions {
  streams: number;
  /** Report with however many streams are open after this long. */
  openTimeoutS: number;
  maxSeconds: number;
}

export function startHoldClient(root: string, spec: RequestSpec, o: HoldOptions): HoldClient {
  const proc = startProc({
    name: "bench-hold",
    command: process.execPath,
    args: [
      join(root, "dist", "bench-hold.js"),
      "--streams",
      String(o.streams),
      "--open-timeout-s",
      String(o.openTimeoutS),
      "--max-seconds",
      String(o.maxSeconds),
    ],
    env: clientEnv(spec),
  });
  const opened = proc
    .waitForLine(/^\{.*"open".*\}$/, (o.openTimeoutS + 30) * 1000)
    .then((m) => asHoldResult(JSON.parse(m[0])));
  return { proc, opened };
}
