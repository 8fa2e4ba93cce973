// OpenAI Chat Completions usage (also every OpenAI-compatible server: OpenRouter, vLLM, ...).
//
// prompt_tokens INCLUDES the cached tokens (prompt_tokens_details.cached_tokens) and, where
// reported, the tokens written to the cache (cache_write_tokens). We record inputTokens as the
// uncached remainder so each token is billed once: input at the input price, cached at the
// cache-read price, written at the cache-write price.
import type { ExtractedUsage, StreamTap } from "../../providers/types.js";
import { type TapOptions, estimatedUsage } from "./estimate.js";
import { count, isRecord, parseJson, record, str } from "./fields.js";
import { sseFramer } from "./framing.js";
import { hasObjectValue, startsWithErrorKey, stringValue, stringValueChars } from "./scan.js";

/** Usage from an OpenAI `usage` object with prompt_tokens/completion_tokens. */
export function usageFromCompletionUsage(usage: Record<string, unknown>, model?: string): ExtractedUsage {
  const details = record(usage.prompt_tokens_details);
  const cacheRead = count(details?.cached_tokens);
  const cacheWrite = count(details?.cache_write_tokens);
  const result: ExtractedUsage = {
    inputTokens: Math.max(0, count(usage.prompt_tokens) - cacheRead - cacheWrite),
    outputTokens: count(usage.completion_tokens),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    estimated: false,
  };
  if (model !== undefined) result.servedModel = model;
  return result;
}

/** Usage from a complete chat completion (or a single chunk) object. */
export function openaiChatUsage(body: unknown): ExtractedUsage | undefined {
  if (!isRecord(body)) return undefined;
  const usage = record(body.usage);
  return usage ? usageFromCompletionUsage(usage, str(body.model)) : undefined;
}

/** Text-bearing fields of a chat delta, measured for the estimate of a cut stream. */
const TEXT_KEYS = ['"content"', '"reasoning_content"', '"reasoning"', '"arguments"', '"refusal"'];

export function createOpenAIChatTap(opts: TapOptions = {}): StreamTap {
  let usage: ExtractedUsage | undefined;
  let model: string | undefined;
  let chars = 0;
  let error: string | undefined;

  const push = sseFramer((_event, data) => {
    if (data.startsWith("[DONE]")) return;
    if (model === undefined) model = stringValue(data, '"model"') || undefined;
    // Include_usage streams put "usage":null on every chunk; only an object is the real one.
    if (hasObjectValue(data, '"usage"')) {
      const found = openaiChatUsage(parseJson(data));
      if (found) usage = found;
    } else if (startsWithErrorKey(data)) {
      error = openaiErrorMessage(parseJson(data)) ?? "stream error";
      return;
    }
    for (const key of TEXT_KEYS) chars += stringValueChars(data, key);
  });

  return {
    push,
    result() {
      if (usage) return usage.servedModel || model === undefined ? usage : { ...usage, servedModel: model };
      return estimatedUsage({ servedModel: model }, chars, opts);
    },
    streamError: () => error,
  };
}

/** The message of an OpenAI-style `{"error":{...}}` body. */
export function openaiErrorMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const err = body.error;
  if (typeof err === "string") return err;
  const e = record(err);
  if (!e) return undefined;
  const message = str(e.message) ?? "error";
  const type = str(e.type) ?? str(e.code) ?? str(e.status);
  return type ? `${type}: ${message}` : message;
}
