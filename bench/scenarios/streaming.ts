// Streaming: time to first byte and total time of sequential streaming requests, measured by the
// Node client in bench/ttfb.ts (its own process) against an upstream streaming --chunks chunks.
import { runTtfbClient } from "../clients.js";
import type { TtfbResult } from "../client-results.js";
import { directSpec, gatewaySpec, type BenchContext } from "../context.js";
import { percentile } from "../stats.js";

export interface StreamingFigures {
  ttfbP50Ms: number;
  ttfbP99Ms: number;
  totalP50Ms: number;
  requests: number;
  errors: number;
}

export interface StreamingPair {
  direct: StreamingFigures;
  gateway: StreamingFigures;
}

function figures(r: TtfbResult): StreamingFigures {
  return {
    ttfbP50Ms: percentile(r.ttfbMs, 50),
    ttfbP99Ms: percentile(r.ttfbMs, 99),
    totalP50Ms: percentile(r.totalMs, 50),
    requests: r.ttfbMs.length,
    errors: r.errors,
  };
}

export async function streamingScenario(ctx: BenchContext): Promise<StreamingPair[]> {
  const { root, opts } = ctx;
  const id = await ctx.sut.identity("streaming");
  const pairs: StreamingPair[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    ctx.log(`streaming: run ${run}/${opts.runs} (${opts.ttfbRequests} requests each side)`);
    const direct = await runTtfbClient(root, directSpec(ctx, true), opts.ttfbRequests);
    const gateway = await runTtfbClient(root, gatewaySpec(ctx, id, true), opts.ttfbRequests);
    pairs.push({ direct: figures(direct), gateway: figures(gateway) });
  }
  return pairs;
}
