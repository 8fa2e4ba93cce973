// One wrk load shape measured against the upstream directly and through the gateway, the two
// interleaved run by run so that drift on a shared machine hits both sides alike.
import { directSpec, gatewaySpec, type BenchContext } from "../context.js";
import { checkAfterWrk, type RecordCheck } from "../record-check.js";
import { runWrk, type WrkLoad, type WrkRun } from "../wrk.js";

export interface WrkPair {
  direct: WrkRun;
  gateway: WrkRun;
  /** Absent for a --target, whose records cannot be read. */
  check?: RecordCheck;
}

const WARMUP_S = 2;

export async function compareWithWrk(ctx: BenchContext, name: string, load: WrkLoad): Promise<WrkPair[]> {
  const { root, sut, opts } = ctx;
  const direct = directSpec(ctx, false);
  // Warm both sides up (JIT, connection pools, key cache) before anything is measured.
  const warm = { ...load, durationS: Math.max(1, Math.min(WARMUP_S, Math.floor(load.durationS / 2))) };
  await runWrk(root, direct, warm);
  await runWrk(root, gatewaySpec(ctx, await sut.identity(`${name}-warmup`), false), warm);

  const pairs: WrkPair[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    ctx.log(
      `${name}: run ${run}/${opts.runs} (${load.connections} connections, ${load.durationS}s each side)`,
    );
    const d = await runWrk(root, direct, load);
    // Each run gets an identity of its own, so its usage records are counted apart.
    const id = await sut.identity(name);
    const g = await runWrk(root, gatewaySpec(ctx, id, false), load);
    const pair: WrkPair = { direct: d, gateway: g };
    if (sut.accounting && id.instanceId) {
      pair.check = checkAfterWrk(g.requests, load.connections, await sut.accounting.settle(id.instanceId));
    }
    pairs.push(pair);
  }
  return pairs;
}
