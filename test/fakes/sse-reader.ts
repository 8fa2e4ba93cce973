// Test helpers that read what the fake (or anything else) streams, with eventsource-parser for SSE.
import { createParser } from "eventsource-parser";
import type { EventSourceMessage } from "eventsource-parser";

export interface SseEvent {
  event: string | undefined;
  data: string;
}

function toEvent(m: EventSourceMessage): SseEvent {
  return { event: m.event, data: m.data };
}

async function* bytes(res: Response): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Every SSE event in a complete body. */
export function readSse(body: string): SseEvent[] {
  const out: SseEvent[] = [];
  const parser = createParser({ onEvent: (m) => out.push(toEvent(m)) });
  parser.feed(body);
  return out;
}

/** SSE events as they arrive on a fetch response. */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const pending: SseEvent[] = [];
  const parser = createParser({ onEvent: (m) => pending.push(toEvent(m)) });
  const decoder = new TextDecoder();
  for await (const chunk of bytes(res)) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (pending.length > 0) yield pending.shift() as SseEvent;
  }
}

/** NDJSON lines as they arrive on a fetch response (raw text, one line each, without the newline). */
export async function* ndjsonLines(res: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of bytes(res)) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
    }
  }
  if (buffer !== "") yield buffer;
}
