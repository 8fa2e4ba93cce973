// Soak: --soak requests (default 1,000,000) through the gateway from the Node load client at 50
// connections, checking that usage records == requests sent, and watching the gateway's RSS.
//
// RSS is sampled while the load runs, every 2 % of the requests. Under load it saws up and down by
// tens of MB as the heap fills and is collected, so single samples say little; the floor does.
// Growth compares the lowest sample between 10 % and 30 % of the requests (warmed up) with the
// lowest between 80 % and 100 %: memory that is retained per request raises the floor. The idle
// figures before the soak and after the drain are reported but not compared, since right after a
// burst the heap still holds garbage the next collection returns.
import { runLoadClient } from "../clients.js";
import type { LoadResult } from "../client-results.js";
import { gatewaySpec, type BenchContext } from "../context.js";
import { checkAfterLoad, type RecordCheck } from "../record-check.js";
import { readRssBytes } from "../rss.js";

export interface RssSample {
  completed: number;
  rssBytes: number;
}

export interface SoakResult {
  load: LoadResult;
  /** Idle, just before the soak. */
  rssIdleBeforeBytes?: number;
  rssSamples: RssSample[];
  /** Lowest sample between 10 % and 30 % of the requests. */
  rssWarmBytes?: number;
  /** Lowest sample between 80 % and 100 %. */
  rssEndBytes?: number;
  rssPeakBytes?: number;
  /** After the usage queue drained. */
  rssAfterDrainBytes?: number;
  check?: RecordCheck;
}

const CONNECTIONS = 50;
/** Bounds the soak in time as well as in count; a million requests take minutes, not hours. */
const MAX_SECONDS = 3 * 3600;
const SAMPLES = 50;

export async function soakScenario(ctx: BenchContext): Promise<SoakResult> {
  const { sut, opts } = ctx;
  const pid = sut.pid;
  const id = await sut.identity("soak");
  const rssSamples: RssSample[] = [];
  const reads: Promise<void>[] = [];
  const result: SoakResult = {
    load: { sent: 0, ok: 0, failures: {}, durationMs: 0, timedOut: false },
    rssSamples,
  };
  if (pid) result.rssIdleBeforeBytes = await readRssBytes(pid);
  ctx.log(`soak: ${opts.soak} requests at ${CONNECTIONS} connections`);
  const progressEvery = Math.max(1, Math.floor(opts.soak / SAMPLES));
  result.load = await runLoadClient(
    ctx.root,
    gatewaySpec(ctx, id, false),
    { requests: opts.soak, connections: CONNECTIONS, maxSeconds: MAX_SECONDS, progressEvery },
    (completed) => {
      if (pid)
        reads.push(readRssBytes(pid).then((rssBytes) => void rssSamples.push({ completed, rssBytes })));
    },
  );
  await Promise.all(reads);
  rssSamples.sort((a, b) => a.completed - b.completed);
  const floor = (from: number, to: number): number | undefined => {
    const inRange = rssSamples.filter(
      (s) => s.completed >= from * opts.soak && s.completed <= to * opts.soak,
    );
    return inRange.length ? Math.min(...inRange.map((s) => s.rssBytes)) : undefined;
  };
  result.rssWarmBytes = floor(0.1, 0.3);
  result.rssEndBytes = floor(0.8, 1);
  if (rssSamples.length) result.rssPeakBytes = Math.max(...rssSamples.map((s) => s.rssBytes));
  if (sut.accounting && id.instanceId) {
    ctx.log("soak: waiting for the usage queue to drain");
    result.check = checkAfterLoad(
      result.load.sent,
      await sut.accounting.settle(id.instanceId, result.load.sent),
    );
  }
  if (pid) result.rssAfterDrainBytes = await readRssBytes(pid);
  return result;
}
