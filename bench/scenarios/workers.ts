// The throughput scenario against `keygate serve --workers 1` and `--workers 2`. Workers share
// state through Postgres and Redis, so this needs both URLs. Usage records are counted in Postgres;
// /metrics is per worker, so the check is the bound wrk <= records <= wrk + connections. Each run
// is paired with a direct run just before it, as in the throughput scenario, so each worker count
// has a share of direct measured at the same time rather than minutes apart.
import { directSpec, gatewaySpec, type BenchContext } from "../context.js";
import type { KeygateProc } from "../keygate-proc.js";
import { checkAfterWrk, type RecordCheck } from "../record-check.js";
import { keygateSut } from "../sut.js";
import { runWrk, type WrkRun } from "../wrk.js";
import { THROUGHPUT_LOAD } from "./throughput.js";

export interface WorkersRun {
  direct: WrkRun;
  gateway: WrkRun;
  check?: RecordCheck;
}

export interface WorkersResult {
  /** Why the comparison did not run. */
  skipped?: string;
  byWorkers: { workers: number; runs: WorkersRun[] }[];
}

export const WORKER_COUNTS = [1, 2];

export async function workersScenario(
  ctx: BenchContext,
  start: (workers: number) => Promise<KeygateProc>,
): Promise<WorkersResult> {
  const { opts } = ctx;
  if (ctx.sut.label !== "keygate") return { skipped: "not applicable to --target", byWorkers: [] };
  if (!opts.databaseUrl || !opts.redisUrl) {
    return {
      skipped: "needs --database-url and --redis-url (workers share state through them)",
      byWorkers: [],
    };
  }
  const load = { ...THROUGHPUT_LOAD, durationS: opts.durationS };
  const byWorkers: WorkersResult["byWorkers"] = [];
  for (const workers of WORKER_COUNTS) {
    const kg = await start(workers);
    try {
      const sut = keygateSut(kg, { databaseUrl: opts.databaseUrl, metrics: false });
      const accounting = sut.accounting;
      if (!accounting) throw new Error("keygate without accounting");
      const wctx: BenchContext = { ...ctx, sut };
      await runWrk(ctx.root, gatewaySpec(wctx, await sut.identity("workers-warmup"), false), {
        ...load,
        durationS: Math.min(2, load.durationS),
      });
      const runs: WorkersRun[] = [];
      for (let run = 1; run <= opts.runs; run++) {
        ctx.log(`workers ${workers}: run ${run}/${opts.runs}`);
        const direct = await runWrk(ctx.root, directSpec(ctx, false), load);
        const id = await sut.identity(`workers${workers}`);
        const gateway = await runWrk(ctx.root, gatewaySpec(wctx, id, false), load);
        const s = await accounting.settle(id.instanceId ?? "");
        runs.push({ direct, gateway, check: checkAfterWrk(gateway.requests, load.connections, s) });
      }
      byWorkers.push({ workers, runs });
    } finally {
      await kg.close();
    }
  }
  return { byWorkers };
}
