// Writes a handler's answer to the socket, applying the stream faults (reset, malformed, error).
import type { ServerResponse } from "node:http";
import type { Fault } from "./faults.js";
import { encodeEvent, malformedEvent } from "./frames.js";
import type { Reply, StreamEvent } from "./types.js";

/** The provider's mid-stream error events, given how many events were already sent. */
export type StreamErrorFn = (sent: number) => StreamEvent[];

export interface WriteOptions {
  fault?: Fault;
  streamError?: StreamErrorFn;
  /** Awaited before every stream event after the first. */
  pause(): Promise<void>;
}

/** Writes and resolves once the bytes are handed to the socket (or the socket is gone). */
function write(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve();
    res.write(chunk, () => resolve());
  });
}

export async function writeReply(res: ServerResponse, reply: Reply, opts: WriteOptions): Promise<void> {
  const { fault } = opts;
  if (reply.kind !== "stream") {
    const body = reply.kind === "json" ? JSON.stringify(reply.body) : reply.body;
    res.writeHead(reply.status, { ...reply.headers, "content-length": Buffer.byteLength(body) });
    if (fault?.kind === "resetMidStream") {
      await write(res, body.slice(0, Math.floor(body.length / 2)));
      res.destroy();
      return;
    }
    res.end(body);
    return;
  }
  res.writeHead(reply.status, reply.headers);
  res.flushHeaders();
  const events = reply.events;
  // Faults act strictly mid-stream: never after the last event, so the stream is always incomplete.
  const at = (n: number): number => Math.max(0, Math.min(n, events.length - 1));
  for (let i = 0; i < events.length; i++) {
    if (res.destroyed) return;
    if (i > 0) await opts.pause();
    if (fault?.kind === "resetMidStream" && i === at(fault.afterChunks)) {
      res.destroy();
      return;
    }
    if (fault?.kind === "streamError" && i === at(fault.afterChunks)) {
      for (const e of opts.streamError?.(i) ?? []) await write(res, encodeEvent(e, reply.framing));
      res.end();
      return;
    }
    const e = events[i];
    if (e === undefined) continue;
    if (fault?.kind === "malformedChunk" && i === Math.max(1, at(fault.afterChunks))) {
      // A broken copy of the next JSON event, so the stream still carries every real event.
      const source = e.data.startsWith("{") ? e : (events[i - 1] ?? e);
      await write(res, malformedEvent(source, reply.framing));
    }
    await write(res, encodeEvent(e, reply.framing));
  }
  res.end();
}
