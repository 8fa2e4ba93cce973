// Starts the fast fake upstream (dist/bench-upstream.js) in its own process.
import { join } from "node:path";
import { startProc, waitForUrl, type Proc } from "./procs.js";

export interface UpstreamOptions {
  /** 0 picks a free port. */
  port: number;
  chunks: number;
  chunkDelayMs: number;
}

export interface Upstream {
  /** Origin, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  proc: Proc;
}

/** The credential the bench config gives keygate for the upstream; direct runs send it too. */
export const UPSTREAM_KEY = "sk-bench-upstream";

export async function startUpstream(root: string, o: UpstreamOptions): Promise<Upstream> {
  const proc = startProc({
    name: "bench-upstream",
    command: process.execPath,
    args: [
      join(root, "dist", "bench-upstream.js"),
      "--port",
      String(o.port),
      "--chunks",
      String(o.chunks),
      "--chunk-delay-ms",
      String(o.chunkDelayMs),
    ],
    env: { PATH: process.env.PATH },
  });
  const url = await waitForUrl(proc, 15_000);
  return { url, port: Number(new URL(url).port), proc };
}
