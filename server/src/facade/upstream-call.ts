// One upstream request through undici's dispatch API with a raw handler. Compared with
// request(), nothing is built per call that the relay does not use: no Readable for the body, no
// AbortSignal, no async iterator. Chunks reach the relay synchronously as the socket delivers them,
// and backpressure is undici's own pause and resume.
import type { Writable } from "node:stream";
import type { Dispatcher } from "undici";
import { errors } from "undici";

export interface UpstreamHead {
  statusCode: number;
  /** Lower-cased names, as undici parses them. */
  headers: Record<string, string | string[] | undefined>;
}

/** Handles one body chunk; returns false when the destination is full (the call then pauses). */
export type ChunkSink = (chunk: Buffer) => boolean;

export interface UpstreamCall {
  /** Resolves when the response headers arrive; rejects if the call fails before that. */
  head: Promise<UpstreamHead>;
  /**
   * Feeds the body to `sink` as it arrives and resolves when it has ended. When the sink returns
   * false, the call pauses until `drain` emits "drain". Rejects if the call fails midway.
   */
  pipe(sink: ChunkSink, drain?: Writable): Promise<void>;
  /** Reads the body whole, keeping at most `limit` bytes (error bodies, small answers). */
  collect(limit: number): Promise<Buffer>;
  /** Cancels the call; a pending `head` or `pipe` rejects with `reason` (or an abort error). */
  abort(reason?: Error): void;
}

export function callUpstream(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): UpstreamCall {
  let controller: Dispatcher.DispatchController | undefined;
  let abortReason: Error | undefined;
  let headSettled = false;
  let resolveHead!: (h: UpstreamHead) => void;
  let rejectHead!: (err: Error) => void;
  const head = new Promise<UpstreamHead>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  // Chunks that arrive before the relay attaches its sink (headers and body often share a read).
  let pending: Buffer[] | undefined;
  let ended = false;
  let failure: Error | undefined;
  let sink: ChunkSink | undefined;
  let drainSource: Writable | undefined;
  let settleBody: ((err?: Error) => void) | undefined;

  const fail = (err: Error): void => {
    failure ??= err;
    if (!headSettled) {
      headSettled = true;
      rejectHead(err);
    }
    settleBody?.(err);
    settleBody = undefined;
  };
  const resume = (): void => controller?.resume();
  const deliver = (chunk: Buffer): void => {
    if (!sink) {
      (pending ??= []).push(chunk);
      return;
    }
    if (!sink(chunk) && drainSource && controller && !controller.paused) {
      controller.pause();
      drainSource?.once("drain", resume);
    }
  };

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (abortReason) c.abort(abortReason);
    },
    onResponseStart(_c, statusCode, headers) {
      headSettled = true;
      resolveHead({ statusCode, headers: headers as UpstreamHead["headers"] });
    },
    onResponseData(_c, chunk) {
      deliver(chunk);
    },
    onResponseEnd() {
      ended = true;
      settleBody?.();
      settleBody = undefined;
    },
    onResponseError(_c, err) {
      fail(err);
    },
  };
  dispatcher.dispatch(options, handler);

  const pipe = (s: ChunkSink, drain?: Writable): Promise<void> => {
    sink = s;
    drainSource = drain;
    const early = pending;
    pending = undefined;
    if (early) for (const chunk of early) deliver(chunk);
    if (failure) return Promise.reject(failure);
    if (ended) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      settleBody = (err) => (err ? reject(err) : resolve());
    });
  };

  return {
    head,
    pipe,
    async collect(limit) {
      const parts: Buffer[] = [];
      let size = 0;
      // The sink never reports full, so this never pauses; the caller's limit bounds memory.
      await pipe((chunk) => {
        if (size < limit) parts.push(chunk);
        size += chunk.length;
        return true;
      });
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    abort(reason) {
      if (ended || failure) return;
      const err = reason ?? new errors.RequestAbortedError();
      if (controller) controller.abort(err);
      else {
        // Not on a socket yet: undici offers no handle to cancel with, so fail now and cancel
        // the request as soon as it starts.
        abortReason = err;
        fail(err);
      }
    },
  };
}
