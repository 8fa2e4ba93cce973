// Turns raw upstream chunks (split anywhere, even inside a UTF-8 sequence) into SSE events or
// NDJSON lines. Only the current incomplete event/line is held, never the body.
import { createParser } from "eventsource-parser";

/** Events or lines larger than this are dropped rather than buffered without bound. */
const MAX_BUFFER_CHARS = 16 * 1024 * 1024;

export type ChunkSink = (chunk: Uint8Array) => void;

export function sseFramer(onEvent: (event: string | undefined, data: string) => void): ChunkSink {
  const decoder = new TextDecoder();
  const parser = createParser({
    maxBufferSize: MAX_BUFFER_CHARS,
    onEvent(message) {
      try {
        onEvent(message.event, message.data);
      } catch {
        // A malformed event never breaks the stream; it is simply not counted.
      }
    },
  });
  return (chunk) => {
    try {
      parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // Only reachable after an oversized event terminated the parser: start afresh.
      parser.reset();
    }
  };
}

export interface LineFramer {
  push: ChunkSink;
  /** Hands over a final line that arrived without its trailing newline. */
  flush(): void;
}

export function ndjsonFramer(onLine: (line: string) => void): LineFramer {
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (line: string): void => {
    if (line.trim() === "") return;
    try {
      onLine(line);
    } catch {
      // Malformed lines are ignored.
    }
  };
  return {
    push(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      let start = 0;
      let nl = text.indexOf("\n");
      if (nl === -1) {
        pending = pending.length + text.length > MAX_BUFFER_CHARS ? "" : pending + text;
        return;
      }
      emit(pending + text.slice(0, nl));
      start = nl + 1;
      nl = text.indexOf("\n", start);
      while (nl !== -1) {
        emit(text.slice(start, nl));
        start = nl + 1;
        nl = text.indexOf("\n", start);
      }
      pending = text.slice(start);
    },
    flush() {
      const line = pending;
      pending = "";
      emit(line);
    },
  };
}
