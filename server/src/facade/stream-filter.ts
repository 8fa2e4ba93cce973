// Stream re-framing for the few cases where the client must not get the upstream's bytes as they
// are. Each filter parses the upstream SSE events as they arrive and writes its own framing of
// each event at once: no event waits for the next one.
import { createParser, type EventSourceMessage } from "eventsource-parser";

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
  if (!data.includes('"usage"')) return false;
  try {
    const v = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return (
      Array.isArray(v.choices) && v.choices.length === 0 && typeof v.usage === "object" && v.usage !== null
    );
  } catch {
    return false;
  }
}

/**
 * When keygate asked an OpenAI-format upstream for stream_options.include_usage on the client's
 * behalf, the extra usage-only chunk must not reach the client: it gets exactly the stream it asked
 * for. OpenAI chat streams are `data:` events only, so re-emitting each event's data reproduces the
 * stream byte for byte, minus that one chunk.
 */
export function createUsageChunkStripper(): ChunkFilter {
  return sseRewriter((e) =>
    isUsageOnlyChunk(e.data) ? "" : (e.event ? `event: ${e.event}\n` : "") + `data: ${e.data}\n\n`,
  );
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
