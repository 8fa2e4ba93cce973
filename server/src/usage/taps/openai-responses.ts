// OpenAI Responses API usage. input_tokens includes input_tokens_details.cached_tokens (and
// cache_write_tokens where reported), so inputTokens is recorded as the uncached remainder,
// as for chat completions.
import type { ExtractedUsage, StreamTap } from "../../providers/types.js";
import { type TapOptions, estimatedUsage } from "./estimate.js";
import { count, isRecord, parseJson, record, str } from "./fields.js";
import { sseFramer } from "./framing.js";
import { stringValue, stringValueChars } from "./scan.js";

function usageFromResponseUsage(usage: Record<string, unknown>, model?: string): ExtractedUsage {
  const details = record(usage.input_tokens_details);
  const cacheRead = count(details?.cached_tokens);
  const cacheWrite = count(details?.cache_write_tokens);
  const result: ExtractedUsage = {
    inputTokens: Math.max(0, count(usage.input_tokens) - cacheRead - cacheWrite),
    outputTokens: count(usage.output_tokens),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    estimated: false,
  };
  if (model !== undefined) result.servedModel = model;
  return result;
}

/** Usage from a complete Response object. */
export function openaiResponsesUsage(body: unknown): ExtractedUsage | undefined {
  if (!isRecord(body)) return undefined;
  const usage = record(body.usage);
  return usage ? usageFromResponseUsage(usage, str(body.model)) : undefined;
}

/** Terminal events; each carries the whole Response, usage included (failed may have none). */
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);

function responseError(response: Record<string, unknown>): string | undefined {
  const err = record(response.error);
  if (!err) return undefined;
  const code = str(err.code);
  const message = str(err.message) ?? "response failed";
  return code ? `${code}: ${message}` : message;
}

export function createOpenAIResponsesTap(opts: TapOptions = {}): StreamTap {
  let usage: ExtractedUsage | undefined;
  let model: string | undefined;
  let chars = 0;
  let error: string | undefined;

  const push = sseFramer((event, data) => {
    // Every Responses event names its type both in `event:` and in the payload's "type".
    const type = event ?? stringValue(data, '"type"');
    if (type === undefined) return;
    if (type.endsWith(".delta")) {
      chars += stringValueChars(data, '"delta"');
      return;
    }
    if (type === "response.created" || type === "response.in_progress") {
      if (model === undefined) model = stringValue(data, '"model"') || undefined;
      return;
    }
    if (type === "error") {
      const body = parseJson(data);
      if (isRecord(body)) {
        const code = str(body.code);
        const message = str(body.message) ?? "stream error";
        error = code ? `${code}: ${message}` : message;
      } else error = "stream error";
      return;
    }
    if (!FINAL_EVENTS.has(type)) return;
    const body = parseJson(data);
    const response = isRecord(body) ? record(body.response) : undefined;
    if (!response) return;
    model = str(response.model) ?? model;
    const found = openaiResponsesUsage(response);
    if (found) usage = found;
    if (type === "response.failed") error = responseError(response) ?? "response failed";
  });

  return {
    push,
    result() {
      if (usage) return usage;
      return estimatedUsage({ servedModel: model }, chars, opts);
    },
    streamError: () => error,
  };
}
