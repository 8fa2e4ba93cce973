// Puts stream events on the wire: SSE (LF, or CRLF as Gemini sends it) or NDJSON lines.
import type { Framing, StreamEvent } from "./types.js";

export function encodeEvent(e: StreamEvent, framing: Framing): string {
  if (framing === "ndjson") return `${e.data}\n`;
  const eol = framing === "sse-crlf" ? "\r\n" : "\n";
  const name = e.event === undefined ? "" : `event: ${e.event}${eol}`;
  return `${name}data: ${e.data}${eol}${eol}`;
}

/**
 * A correctly framed event whose JSON is cut in half, so it can never parse: a parser sees
 * a complete event/line with a broken payload and the stream goes on after it.
 */
export function malformedEvent(e: StreamEvent, framing: Framing): string {
  const cut = e.data.slice(0, Math.max(1, Math.floor(e.data.length / 2)));
  return encodeEvent({ ...e, data: cut.startsWith("{") ? cut : `{${cut}` }, framing);
}
