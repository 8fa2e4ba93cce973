// Small constructors for handler answers, so each format module reads as data.
import type { Framing, Reply, StreamEvent } from "./types.js";

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { kind: "json", status, body, headers: { "content-type": "application/json", ...headers } };
}

export function streamReply(
  framing: Framing,
  events: StreamEvent[],
  contentType: string,
  headers: Record<string, string> = {},
): Reply {
  return {
    kind: "stream",
    status: 200,
    framing,
    events,
    headers: { "content-type": contentType, "cache-control": "no-cache", ...headers },
  };
}

/** An SSE event whose data is the JSON of `payload`. */
export function ev(payload: unknown, event?: string): StreamEvent {
  return event === undefined ? { data: JSON.stringify(payload) } : { event, data: JSON.stringify(payload) };
}

export function retryAfterHeader(retryAfter: number | undefined): Record<string, string> {
  return retryAfter === undefined ? {} : { "retry-after": String(retryAfter) };
}
