// Starts the bare Node proxy (dist/bench-bare-proxy.js) in its own process, in front of the upstream.
import { join } from "node:path";
import { KEYGATE_NODE_FLAGS } from "./keygate-proc.js";
import { startProc, waitForUrl, type Proc } from "./procs.js";
import { UPSTREAM_KEY } from "./upstream-proc.js";

export interface BareProxy {
  url: string;
  pid: number;
  proc: Proc;
}

export async function startBareProxy(root: string, upstreamUrl: string): Promise<BareProxy> {
  const proc = startProc({
    name: "bench-bare-proxy",
    command: process.execPath,
    // The same V8 flags as keygate, so the comparison is between the two programs alone.
    args: [...KEYGATE_NODE_FLAGS, join(root, "dist", "bench-bare-proxy.js"), "--upstream", upstreamUrl],
    env: { PATH: process.env.PATH, BENCH_UPSTREAM_KEY: UPSTREAM_KEY },
  });
  return { url: await waitForUrl(proc, 15_000), pid: proc.pid, proc };
}
