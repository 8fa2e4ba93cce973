// Stream filters for the few cases where the client must not get the upstream's bytes exactly as
// they are. Each passes every event on as soon as it is complete: no event waits for the next one.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { hasObjectValue } from "../usage/taps/scan.js";

export interface ChunkFilter {
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** Bytes to send after the last chunk, if the framing needs a closing. */
  end?(): Uint8Array | undefined;
}

const encoder = new TextEncoder();

/** A filter that turns each SSE event into the text `render` returns for it (or nothing). */
function sseRewriter(render: (e: EventSourceMessage) => string, closing?: () => string): ChunkFilter {
  const decoder = new TextDecoder();
  let out = "";
  const parser = createParser({ onEvent: (e) => (out += render(e)) });
  return {
    push(chunk) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (out.length === 0) return undefined;
      const bytes = encoder.encode(out);
      out = "";
      return bytes;
    },
    ...(closing ? { end: () => encoder.encode(closing()) } : {}),
  };
}

function isUsageOnlyChunk(data: string): boolean {
  try {
    const v = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return (
      Array.isArray(v.choices) && v.choices.length === 0 && typeof v.usage === "object" && v.usage !== null
    );
  } catch {
    return false;
  }
}

/** The data of one SSE event's text, as the SSE parser reads it (also without its blank line). */
function eventData(text: string): string {
  let data = "";
  const parser = createParser({ onEvent: (e) => (data = e.data) });
  // The blank lines end an event that arrived without its own; after a complete one they are no-ops.
  parser.feed(`${text}\n\n`);
  return data;
}

const LF = 0x0a;
const CR = 0x0d;
const USAGE_KEY = Buffer.from('"usage"');
/** An event still incomplete past this size is passed on as it is rather than held. */
const MAX_HELD_BYTES = 1 << 20;

/**
 * When keygate asked an OpenAI-format upstream for stream_options.include_usage on the client's
 * behalf, the extra usage-only chunk must not reach the client: it gets exactly the stream it asked
 * for. The upstream's bytes pass through untouched (comments, ids and line endings included); the
 * filter only finds where each event ends, holds an incomplete last event until its end arrives,
 * and drops the one event that carries usage and no choices. Only events whose bytes contain
 * `"usage"` are decoded, and only one with a usage object is parsed.
 */
export function createUsageChunkStripper(): ChunkFilter {
  // The start of an event not complete yet, and where in it scanning resumes.
  let held: Buffer | undefined;
  let resumeAt = 0;
  // Scanner state where scanning stopped: at the start of a line, just after a CR.
  let atLineStart = true;
  let afterCR = false;

  const isUsageEvent = (buf: Buffer, from: number, to: number): boolean => {
    const key = buf.indexOf(USAGE_KEY, from);
    if (key === -1 || key >= to) return false;
    // Include-usage streams carry "usage":null on every chunk; only a usage object is parsed.
    const text = buf.toString("utf8", from, to);
    return hasObjectValue(text, '"usage"') && isUsageOnlyChunk(eventData(text));
  };

  return {
    push(chunk) {
      const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const buf = held ? Buffer.concat([held, incoming]) : incoming;
      let i = held ? resumeAt : 0;
      held = undefined;
      let eventStart = 0;
      let kept: Buffer[] | undefined;
      let keptUpTo = 0;
      for (; i < buf.length; i++) {
        const b = buf[i]!;
        if (b !== LF && b !== CR) {
          atLineStart = false;
          afterCR = false;
          continue;
        }
        if (b === LF && afterCR) {
          afterCR = false; // the second half of a CRLF
          continue;
        }
        if (!atLineStart) {
          atLineStart = true;
          afterCR = b === CR;
          continue;
        }
        // A blank line: the event ends with it. A CR may be the first half of a CRLF, which
        // belongs to this event too, so a CR at the very end waits for the next byte.
        if (b === CR && i + 1 === buf.length) break;
        const end = b === CR && buf[i + 1] === LF ? i + 2 : i + 1;
        if (isUsageEvent(buf, eventStart, end)) {
          (kept ??= []).push(buf.subarray(keptUpTo, eventStart));
          keptUpTo = end;
        }
        eventStart = end;
        i = end - 1;
        afterCR = false;
      }
      let out: Buffer;
      if (buf.length - eventStart > MAX_HELD_BYTES) {
        out = kept ? Buffer.concat([...kept, buf.subarray(keptUpTo)]) : buf;
        // Stopped at a blank line's CR: that event is over, and a LF next completes its CRLF.
        if (i < buf.length) afterCR = true;
      } else {
        if (eventStart < buf.length) {
          held = Buffer.from(buf.subarray(eventStart));
          resumeAt = i - eventStart;
        }
        out = kept
          ? Buffer.concat([...kept, buf.subarray(keptUpTo, eventStart)])
          : buf.subarray(0, eventStart);
      }
      return out.length > 0 ? out : undefined;
    },
    end() {
      // A last event that never got its blank line goes on as it came.
      const rest = held;
      held = undefined;
      return rest && !isUsageEvent(rest, 0, rest.length) ? rest : undefined;
    },
  };
}

/**
 * Gemini's streamGenerateContent without `alt=sse` answers with one JSON array whose elements
 * arrive as they are generated. keygate always asks upstream for SSE (which its usage tap reads),
 * and re-frames each event as an array element for such clients, element by element.
 */
export function createSseToJsonArray(): ChunkFilter {
  let count = 0;
  return sseRewriter(
    (e) => (count++ === 0 ? "[" : ",\r\n") + e.data,
    () => (count === 0 ? "[]" : "]"),
  );
}
