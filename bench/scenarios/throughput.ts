// Throughput at 50 connections (wrk -t2 -c50), with the check that every request was recorded.
import type { BenchContext } from "../context.js";
import { compareWithWrk, type WrkPair } from "./wrk-compare.js";

export const THROUGHPUT_LOAD = { threads: 2, connections: 50 };

export function throughputScenario(ctx: BenchContext): Promise<WrkPair[]> {
  return compareWithWrk(ctx, "throughput", { ...THROUGHPUT_LOAD, durationS: ctx.opts.durationS });
}
