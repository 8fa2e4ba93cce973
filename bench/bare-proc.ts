// Starts the reference Node proxies (dist/bench-bare-proxy.js) in their own processes, in front of
// the upstream: the bare one, and with a database the recording one (--record).
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { KEYGATE_NODE_FLAGS } from "./keygate-proc.js";
import { startProc, waitForUrl, type Proc } from "./procs.js";
import { UPSTREAM_KEY } from "./upstream-proc.js";

export interface BareProxy {
  url: string;
  pid: number;
  proc: Proc;
  /** The key the recording proxy admits (absent for the bare one, which checks none). */
  key?: string;
}

function startProxy(root: string, upstreamUrl: string, recordIn?: string): Promise<BareProxy> {
  const key = recordIn ? `kg_bench_${randomBytes(24).toString("base64url")}` : undefined;
  const proc = startProc({
    name: recordIn ? "bench-recording-proxy" : "bench-bare-proxy",
    command: process.execPath,
    // The same V8 flags as keygate, so the comparison is between the programs alone.
    args: [
      ...KEYGATE_NODE_FLAGS,
      join(root, "dist", "bench-bare-proxy.js"),
      "--upstream",
      upstreamUrl,
      ...(recordIn ? ["--record"] : []),
    ],
    env: {
      PATH: process.env.PATH,
      BENCH_UPSTREAM_KEY: UPSTREAM_KEY,
      ...(key ? { BENCH_DATABASE_URL: recordIn, BENCH_PROXY_KEY: key } : {}),
    },
  });
  return waitForUrl(proc, 15_000).then((url) => ({ url, pid: proc.pid, proc, ...(key ? { key } : {}) }));
}

export function startBareProxy(root: string, upstreamUrl: string): Promise<BareProxy> {
  return startProxy(root, upstreamUrl);
}

/** The bare proxy plus the recording every request needs, into the Postgres at `databaseUrl`. */
export function startRecordingProxy(
  root: string,
  upstreamUrl: string,
  databaseUrl: string,
): Promise<BareProxy> {
  return startProxy(root, upstreamUrl, databaseUrl);
}
