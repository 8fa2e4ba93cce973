// Ollama /api/chat and /api/generate usage: prompt_eval_count and eval_count on the final
// (`done: true`) object. Streams are NDJSON, one object per line.
import type { ExtractedUsage, StreamTap } from "../../providers/types.js";
import { type TapOptions, estimatedUsage } from "./estimate.js";
import { count, isRecord, parseJson, str } from "./fields.js";
import { ndjsonFramer } from "./framing.js";
import { startsWithErrorKey, stringValue, stringValueChars } from "./scan.js";

export function ollamaUsage(body: unknown): ExtractedUsage | undefined {
  if (!isRecord(body)) return undefined;
  if (body.prompt_eval_count === undefined && body.eval_count === undefined) return undefined;
  const result: ExtractedUsage = {
    inputTokens: count(body.prompt_eval_count),
    outputTokens: count(body.eval_count),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    estimated: false,
  };
  const model = str(body.model);
  if (model !== undefined) result.servedModel = model;
  return result;
}

const TEXT_KEYS = ['"content"', '"response"', '"thinking"'];

export function createOllamaTap(opts: TapOptions = {}): StreamTap {
  let usage: ExtractedUsage | undefined;
  let model: string | undefined;
  let chars = 0;
  let error: string | undefined;

  const framer = ndjsonFramer((line) => {
    if (startsWithErrorKey(line)) {
      const body = parseJson(line);
      error = (isRecord(body) && str(body.error)) || "stream error";
      return;
    }
    // Only the final object carries the eval counts.
    if (line.includes('eval_count"')) {
      const body = parseJson(line);
      if (isRecord(body) && body.done === true) {
        usage = ollamaUsage(body);
        return;
      }
    }
    if (model === undefined) model = stringValue(line, '"model"') || undefined;
    for (const key of TEXT_KEYS) chars += stringValueChars(line, key);
  });

  return {
    push: framer.push,
    result() {
      if (!usage) framer.flush();
      if (usage) return usage.servedModel || model === undefined ? usage : { ...usage, servedModel: model };
      return estimatedUsage({ servedModel: model }, chars, opts);
    },
    streamError: () => error,
  };
}
