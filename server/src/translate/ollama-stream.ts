// Ollama /api/chat NDJSON stream -> hub stream events. Each line is a partial message; the
// last one has done:true with done_reason and the token counts.
import type { HubStreamDecoder, HubStreamEvent, ToolIdMinter } from "./hub.js";
import { createLineReader } from "./ndjson.js";
import { rec, str, tryParseJson } from "./narrow.js";
import { ollamaDoneToHub, ollamaToolCalls, ollamaUsageToHub } from "./ollama.js";

export function createOllamaStreamDecoder(mintId: ToolIdMinter): HubStreamDecoder {
  const lines = createLineReader();
  let started = false;
  let tools = 0;

  function onLine(line: string): HubStreamEvent[] {
    const obj = rec(tryParseJson(line));
    if (!obj) return [];
    const error = str(obj.error);
    if (error !== undefined) return [{ type: "error", error: { status: 500, message: error } }];
    const out: HubStreamEvent[] = [];
    if (!started) {
      started = true;
      out.push({ type: "start" });
    }
    const message = rec(obj.message);
    const text = str(message?.content);
    if (text) out.push({ type: "text", text });
    for (const call of ollamaToolCalls(message)) {
      const index = tools++;
      out.push({ type: "tool_start", index, id: mintId(index), name: call.name });
      out.push({ type: "tool_args", index, json: JSON.stringify(call.args) });
    }
    if (obj.done === true) {
      out.push({ type: "usage", usage: ollamaUsageToHub(obj) });
      out.push({ type: "finish", stop: ollamaDoneToHub(str(obj.done_reason), tools > 0) });
      out.push({ type: "done" });
    }
    return out;
  }

  return {
    push: (text) => lines.feed(text).flatMap(onLine),
    end: () => lines.flush().flatMap(onLine),
  };
}
