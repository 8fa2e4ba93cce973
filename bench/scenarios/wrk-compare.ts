// One wrk load shape measured against the upstream directly and through the gateway (and, as
// references, through the bare and the recording Node proxies), interleaved run by run so that
// drift on a shared machine hits every side alike.
import { bareSpec, directSpec, gatewaySpec, type BenchContext } from "../context.js";
import { cpuPerRequest, readCpu, stolenShare, type CpuPerRequest } from "../cpu.js";
import { checkAfterWrk, type RecordCheck } from "../record-check.js";
import { runWrk, type WrkLoad, type WrkRun } from "../wrk.js";
import type { RequestSpec } from "../request-spec.js";

export interface WrkPair {
  direct: WrkRun;
  gateway: WrkRun;
  /** Absent for a --target, whose records cannot be read. */
  check?: RecordCheck;
  /** CPU per request of the whole machine on each side, and of the gateway process through it. */
  cpu: { direct: CpuPerRequest; gateway: CpuPerRequest } & { [R in Reference]?: CpuPerRequest };
  /** Share of the machine's CPU time the hypervisor withheld during each side's run. */
  stolen: { direct: number; gateway: number } & { [R in Reference]?: number };
  /** The same load through the bare Node proxy, run between the direct and the gateway run. */
  bare?: WrkRun;
  /** The same load through the recording Node proxy, run after the bare one. */
  recording?: WrkRun;
}

/** The reference proxies, in the order each run measures them. */
export const REFERENCES = ["bare", "recording"] as const;
export type Reference = (typeof REFERENCES)[number];

/**
 * One wrk run, with the CPU the machine (and `pid`, when given) spent per request during it, and
 * the share of CPU time the hypervisor withheld meanwhile.
 */
async function measuredRun(
  root: string,
  spec: RequestSpec,
  load: WrkLoad,
  pid?: number,
): Promise<{ run: WrkRun; cpu: CpuPerRequest; stolen: number }> {
  const before = await readCpu(pid);
  const run = await runWrk(root, spec, load);
  const after = await readCpu(pid);
  return { run, cpu: cpuPerRequest(before, after, run.requests), stolen: stolenShare(before, after) };
}

const WARMUP_S = 2;

export async function compareWithWrk(ctx: BenchContext, name: string, load: WrkLoad): Promise<WrkPair[]> {
  const { root, sut, opts } = ctx;
  const direct = directSpec(ctx, false);
  // Warm both sides up (JIT, connection pools, key cache) before anything is measured.
  const warm = { ...load, durationS: Math.max(1, Math.min(WARMUP_S, Math.floor(load.durationS / 2))) };
  const refSpecs: [Reference, RequestSpec, number][] = [];
  if (ctx.bare) refSpecs.push(["bare", bareSpec(ctx, ctx.bare.url), ctx.bare.pid]);
  if (ctx.recording)
    refSpecs.push(["recording", bareSpec(ctx, ctx.recording.url, ctx.recording.key), ctx.recording.pid]);
  await runWrk(root, direct, warm);
  for (const [, spec] of refSpecs) await runWrk(root, spec, warm);
  await runWrk(root, gatewaySpec(ctx, await sut.identity(`${name}-warmup`), false), warm);

  const pairs: WrkPair[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    ctx.log(
      `${name}: run ${run}/${opts.runs} (${load.connections} connections, ${load.durationS}s each side)`,
    );
    const d = await measuredRun(root, direct, load);
    const refs: [Reference, Awaited<ReturnType<typeof measuredRun>>][] = [];
    for (const [ref, spec, pid] of refSpecs) refs.push([ref, await measuredRun(root, spec, load, pid)]);
    // Each run gets an identity of its own, so its usage records are counted apart.
    const id = await sut.identity(name);
    const g = await measuredRun(root, gatewaySpec(ctx, id, false), load, sut.pid);
    const pair: WrkPair = {
      direct: d.run,
      gateway: g.run,
      cpu: { direct: d.cpu, gateway: g.cpu },
      stolen: { direct: d.stolen, gateway: g.stolen },
    };
    for (const [ref, m] of refs) {
      pair[ref] = m.run;
      pair.cpu[ref] = m.cpu;
      pair.stolen[ref] = m.stolen;
    }
    if (sut.accounting && id.instanceId) {
      pair.check = checkAfterWrk(
        g.run.requests,
        load.connections,
        await sut.accounting.settle(id.instanceId),
      );
    }
    pairs.push(pair);
  }
  return pairs;
}
