// Server-sent events in and out. Parsing is eventsource-parser's; this only collects its events.
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseReader {
  feed(text: string): EventSourceMessage[];
  /** Dispatches an event the upstream left without its closing blank line. */
  flush(): EventSourceMessage[];
}

export function createSseReader(): SseReader {
  let pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const take = (): EventSourceMessage[] => {
    const out = pending;
    pending = [];
    return out;
  };
  return {
    feed(text) {
      parser.feed(text);
      return take();
    },
    flush() {
      parser.feed("\n\n");
      return take();
    },
  };
}

export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
