// Gemini generateContent usage. promptTokenCount INCLUDES cachedContentTokenCount, so input is
// the uncached remainder; tool-use prompt tokens are billed as input and thinking tokens as
// output (thoughtsTokenCount is not part of candidatesTokenCount).
import type { ExtractedUsage, StreamTap } from "../../providers/types.js";
import { type TapOptions, estimatedUsage } from "./estimate.js";
import { count, isRecord, parseJson, record, str } from "./fields.js";
import { sseFramer } from "./framing.js";
import { startsWithErrorKey, stringValueChars } from "./scan.js";

function usageFromMetadata(meta: Record<string, unknown>, model?: string): ExtractedUsage {
  const cached = count(meta.cachedContentTokenCount);
  const result: ExtractedUsage = {
    inputTokens: Math.max(0, count(meta.promptTokenCount) - cached) + count(meta.toolUsePromptTokenCount),
    outputTokens: count(meta.candidatesTokenCount) + count(meta.thoughtsTokenCount),
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    estimated: false,
  };
  if (model !== undefined) result.servedModel = model;
  return result;
}

export function googleGenerateUsage(body: unknown): ExtractedUsage | undefined {
  if (!isRecord(body)) return undefined;
  const meta = record(body.usageMetadata);
  return meta ? usageFromMetadata(meta, str(body.modelVersion)) : undefined;
}

/** The message of a Google `{"error":{code,message,status}}` body. */
export function googleErrorMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const err = record(body.error);
  if (!err) return undefined;
  const message = str(err.message) ?? "error";
  const status = str(err.status);
  return status ? `${status}: ${message}` : message;
}

/**
 * Gemini repeats usageMetadata (cumulative) on many chunks; the last one seen is the answer.
 * Its raw text is kept and parsed once, on result(), instead of parsing every chunk.
 */
export function createGoogleTap(opts: TapOptions = {}): StreamTap {
  let lastUsageData: string | undefined;
  let parsedFrom: string | undefined;
  let parsed: ExtractedUsage | undefined;
  let finished = false;
  let chars = 0;
  let error: string | undefined;

  const push = sseFramer((_event, data) => {
    if (startsWithErrorKey(data)) {
      error = googleErrorMessage(parseJson(data)) ?? "stream error";
      return;
    }
    chars += stringValueChars(data, '"text"');
    if (data.includes('"usageMetadata"')) lastUsageData = data;
    // A blocked prompt ends with promptFeedback.blockReason instead of a finishReason.
    if (data.includes('"finishReason"') || data.includes('"blockReason"')) finished = true;
  });

  const lastUsage = (): ExtractedUsage | undefined => {
    if (lastUsageData !== parsedFrom) {
      parsedFrom = lastUsageData;
      parsed = lastUsageData === undefined ? undefined : googleGenerateUsage(parseJson(lastUsageData));
    }
    return parsed;
  };

  return {
    push,
    result() {
      const usage = lastUsage();
      if (usage && finished) return usage;
      // Cut before the final chunk: the last metadata's output count may lag the text seen.
      return estimatedUsage(usage ?? {}, chars, opts);
    },
    streamError: () => error,
  };
}
