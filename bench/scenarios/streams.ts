// Many open streams: the upstream is restarted with a long pause between chunks, a client process
// opens --streams streaming requests through the gateway and holds them, and the gateway's RSS is
// read while all of them are open. Closing the client then checks that the aborted requests were
// recorded too.
import { startHoldClient, type HoldClient } from "../clients.js";
import type { HoldResult } from "../client-results.js";
import { gatewaySpec, type BenchContext } from "../context.js";
import { type RecordCheck } from "../record-check.js";
import { peakRssBytes, readRssBytes } from "../rss.js";

export interface StreamsResult {
  hold: HoldResult;
  idleRssBytes?: number;
  /** Highest RSS over a second of samples with every stream open. */
  openRssBytes?: number;
  /** After the client went away mid-stream: records must equal what keygate served. */
  check?: RecordCheck;
}

/** Long enough that no held stream finishes before the client lets go. */
const HOLD_CHUNKS = 600;
const HOLD_MAX_SECONDS = 300;

export async function streamsScenario(ctx: BenchContext): Promise<StreamsResult> {
  const { sut, opts } = ctx;
  await ctx.restartUpstream(HOLD_CHUNKS, opts.holdChunkDelayMs);
  const id = await sut.identity("streams");
  const idleRssBytes = sut.pid ? await readRssBytes(sut.pid) : undefined;
  ctx.log(`streams: opening ${opts.streams} streams`);
  let client: HoldClient | undefined;
  try {
    client = startHoldClient(ctx.root, gatewaySpec(ctx, id, true), {
      streams: opts.streams,
      openTimeoutS: opts.quick ? 30 : 60,
      maxSeconds: HOLD_MAX_SECONDS,
    });
    const hold = await client.opened;
    const result: StreamsResult = { hold };
    if (sut.pid) {
      result.idleRssBytes = idleRssBytes;
      result.openRssBytes = await peakRssBytes(sut.pid, 10, 100);
    }
    await client.proc.stop();
    client = undefined;
    if (sut.accounting && id.instanceId) {
      // Every stream that was open reached keygate, so at least that many requests must complete.
      const s = await sut.accounting.settle(id.instanceId, hold.open);
      result.check = {
        clientCount: hold.started,
        clientLabel: "streams started",
        ...(s.served === undefined ? {} : { served: s.served }),
        records: s.records,
        ok: s.served === undefined ? s.records >= hold.open : s.records === s.served && s.served >= hold.open,
        note: "records == requests served, after the client disconnected mid-stream",
      };
    }
    return result;
  } finally {
    await client?.proc.stop();
  }
}
