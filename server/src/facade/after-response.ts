// A request's bookkeeping that its response does not wait for (reading usage from a complete
// answer, pricing, settling the limiter, queuing the usage record) runs once the event loop has
// handled this turn's I/O, in the order it was queued. Under load a turn carries many finished
// requests, and their bookkeeping then runs back to back instead of between relays, which
// costs keygate about 7 µs less CPU per request at 50 connections (docs/performance.md). A lone
// request's bookkeeping still runs at once after its response is written, as before.
import type { Logger } from "../log/logger.js";

export interface AfterResponse {
  /** Queues a job for the end of this event-loop turn. */
  (job: () => void): void;
  /** Runs every queued job now (shutdown: no usage record may be left behind). */
  flush(): void;
}

export function createAfterResponse(logger: Logger): AfterResponse {
  let jobs: (() => void)[] = [];
  let scheduled: NodeJS.Immediate | undefined;

  const run = (): void => {
    scheduled = undefined;
    const batch = jobs;
    jobs = [];
    for (const job of batch) {
      try {
        job();
      } catch (err) {
        // One request's failed bookkeeping must not take the others' with it, nor the process.
        logger.error(
          { err: (err as Error).message, stack: (err as Error).stack },
          "request bookkeeping failed",
        );
      }
    }
  };

  const afterResponse = (job: () => void): void => {
    jobs.push(job);
    scheduled ??= setImmediate(run);
  };
  afterResponse.flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    run();
  };
  return afterResponse;
}
