// Added latency at concurrency 1: one connection, one request at a time (wrk -t1 -c1).
import type { BenchContext } from "../context.js";
import { compareWithWrk, type WrkPair } from "./wrk-compare.js";

export const LATENCY_LOAD = { threads: 1, connections: 1 };

export function latencyScenario(ctx: BenchContext): Promise<WrkPair[]> {
  return compareWithWrk(ctx, "latency", { ...LATENCY_LOAD, durationS: ctx.opts.durationS });
}
