// Gemini streamGenerateContent?alt=sse -> hub stream events. Each SSE data line is a whole
// GenerateContentResponse; function calls arrive complete, usage as running totals.
import { googleErrorToHub } from "./error-body.js";
import { geminiFinishReason, geminiFinishToHub, geminiParts, geminiUsageToHub } from "./gemini.js";
import type { HubStreamDecoder, HubStreamEvent, ToolIdMinter } from "./hub.js";
import { arr, isRecord, rec, tryParseJson } from "./narrow.js";
import { createSseReader } from "./sse.js";

export function createGeminiStreamDecoder(mintId: ToolIdMinter): HubStreamDecoder {
  const sse = createSseReader();
  let started = false;
  let tools = 0;
  let finished = false;

  function onData(data: string): HubStreamEvent[] {
    const parsed = tryParseJson(data);
    const body = rec(parsed) ?? rec(arr(parsed)?.[0]);
    if (!body) return [];
    if (isRecord(body.error)) return [{ type: "error", error: googleErrorToHub(body.error) }];
    const out: HubStreamEvent[] = [];
    if (!started) {
      started = true;
      out.push({ type: "start" });
    }
    const { text, calls } = geminiParts(body);
    if (text !== "") out.push({ type: "text", text });
    for (const call of calls) {
      const index = tools++;
      out.push({ type: "tool_start", index, id: call.id ?? mintId(index), name: call.name });
      out.push({ type: "tool_args", index, json: JSON.stringify(call.args) });
    }
    if (isRecord(body.usageMetadata))
      out.push({ type: "usage", usage: geminiUsageToHub(body.usageMetadata) });
    const reason = geminiFinishReason(body);
    if (reason !== undefined && !finished) {
      finished = true;
      out.push({ type: "finish", stop: geminiFinishToHub(reason, tools > 0) });
    }
    return out;
  }

  // Gemini sends no end marker: the translator closes the answer when the upstream closes.
  return {
    push: (text) => sse.feed(text).flatMap((event) => onData(event.data)),
    end: () => sse.flush().flatMap((event) => onData(event.data)),
  };
}
