// Queues usage records on the hot path (a push, nothing else) and writes them in multi-row
// batches in the background. A failed write keeps its batch and retries with backoff, so a
// database outage buffers records instead of losing them. The buffer is bounded: past the
// limit the oldest records are dropped, each drop logged and counted (never silently).
import type { Logger } from "../log/logger.js";
import type { UsageRecord } from "./record.js";

export interface RecorderStats {
  /** Records waiting to be written. */
  queued: number;
  /** Records held back because writes are failing. */
  buffered: number;
  written: number;
  dropped: number;
  writeFailures: number;
}

export interface UsageRecorder {
  record(r: UsageRecord): void;
  stats(): RecorderStats;
  /** Writes everything queued, retrying until done or the deadline passes. */
  drain(deadlineMs: number): Promise<void>;
  close(deadlineMs: number): Promise<void>;
}

export interface RecorderOptions<P = undefined> {
  /** Writes a batch; `prepared` holds prepare's result for each record, in the same order. */
  insert: (batch: UsageRecord[], prepared: P[]) => Promise<void>;
  batchSize: number;
  flushIntervalMs: number;
  queueLimit: number;
  logger: Logger;
  /**
   * Called once per record as it is queued, before observers (e.g. to serialise its row on the
   * request that made it, so a flush never stalls the event loop for a whole batch).
   */
  prepare?: (r: UsageRecord) => P;
  /** Called for every record as it is queued (live feed, metrics). Must not throw. */
  onRecord?: (r: UsageRecord) => void;
  /**
   * Whether a failed write was refused for the values it carried, which no retry changes (as
   * opposed to an outage). Such a batch is written again record by record, and only the records
   * refused on their own are dropped, each logged and counted.
   */
  isRefusal?: (err: unknown) => boolean;
}

export function createUsageRecorder<P = undefined>(opts: RecorderOptions<P>): UsageRecorder {
  let queue: UsageRecord[] = [];
  // Kept beside the queue, index for index (a plain array: no per-record map entry to collect).
  let prepared: P[] = [];
  let writing = false;
  let failing = false;
  let backoffMs = 0;
  let written = 0;
  let dropped = 0;
  let writeFailures = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerIsImmediate = false;
  let closed = false;
  const idle: (() => void)[] = [];

  function schedule(delay: number): void {
    if (closed) return;
    if (timer) {
      // A full batch goes now, even when a flush was already due later.
      if (delay > 0 || timerIsImmediate) return;
      clearTimeout(timer);
    }
    timerIsImmediate = delay === 0;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delay);
    timer.unref();
  }

  /** Removes the first n records, written or dropped, from the queue. */
  function settle(n: number): void {
    queue = queue.slice(n);
    prepared = prepared.slice(n);
  }

  // One record the database refuses would fail its batch on every retry, and every record queued
  // behind it would wait: write the batch's records one by one, and drop only those refused.
  async function writeOneByOne(batch: UsageRecord[], batchPrepared: P[]): Promise<void> {
    let n = 0;
    try {
      for (; n < batch.length; n++) {
        try {
          await opts.insert([batch[n]!], [batchPrepared[n]!]);
          written++;
        } catch (err) {
          if (!opts.isRefusal?.(err)) throw err;
          dropped++;
          opts.logger.error(
            { requestId: batch[n]!.id, err: (err as Error).message, totalDropped: dropped },
            "usage record refused by the database: dropped",
          );
        }
      }
    } finally {
      settle(n);
    }
  }

  async function flush(): Promise<void> {
    if (writing) return;
    if (queue.length === 0) return;
    writing = true;
    const batch = queue.slice(0, opts.batchSize);
    const batchPrepared = prepared.slice(0, batch.length);
    try {
      try {
        await opts.insert(batch, batchPrepared);
        settle(batch.length);
        written += batch.length;
      } catch (err) {
        if (!opts.isRefusal?.(err)) throw err;
        await writeOneByOne(batch, batchPrepared);
      }
      if (failing) opts.logger.info({ buffered: queue.length }, "usage writes recovered");
      failing = false;
      backoffMs = 0;
    } catch (err) {
      writeFailures++;
      backoffMs = Math.min(5000, backoffMs === 0 ? 100 : backoffMs * 2);
      if (!failing) {
        opts.logger.error(
          { err: (err as Error).message, buffered: queue.length },
          "usage write failed; buffering records and retrying",
        );
      }
      failing = true;
    } finally {
      writing = false;
    }
    while (idle.length) idle.shift()!();
    if (queue.length > 0)
      schedule(failing ? backoffMs : queue.length >= opts.batchSize ? 0 : opts.flushIntervalMs);
  }

  return {
    record(r) {
      prepared.push(opts.prepare ? opts.prepare(r) : (undefined as P));
      queue.push(r);
      if (queue.length > opts.queueLimit) {
        const over = queue.length - opts.queueLimit;
        queue.splice(0, over);
        prepared.splice(0, over);
        dropped += over;
        opts.logger.error(
          { dropped: over, totalDropped: dropped },
          "usage queue full: oldest records dropped",
        );
      }
      if (opts.onRecord) {
        try {
          opts.onRecord(r);
        } catch {
          // Observers are best effort; the record itself is already queued.
        }
      }
      // While a batch is being written, the writer reschedules itself when it is done; a timer
      // set now would only fire into the busy writer, and be set again by the next record.
      if (!failing && !writing) schedule(queue.length >= opts.batchSize ? 0 : opts.flushIntervalMs);
    },
    stats: () => ({
      queued: queue.length,
      buffered: failing ? queue.length : 0,
      written,
      dropped,
      writeFailures,
    }),
    async drain(deadlineMs) {
      const until = Date.now() + deadlineMs;
      while (queue.length > 0 && Date.now() < until) {
        if (timer) {
          clearTimeout(timer);
          timer = undefined;
        }
        if (writing) {
          await new Promise<void>((resolve) => idle.push(resolve));
          continue;
        }
        await flush();
        if (failing && queue.length > 0)
          await new Promise((r) => setTimeout(r, Math.min(backoffMs, until - Date.now())));
      }
      if (queue.length > 0)
        opts.logger.error({ unwritten: queue.length }, "usage records could not be written before shutdown");
    },
    async close(deadlineMs) {
      await this.drain(deadlineMs);
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
