// OpenAI embeddings usage: only prompt tokens are billed.
import type { ExtractedUsage } from "../../providers/types.js";
import { count, isRecord, record, str } from "./fields.js";

export function openaiEmbeddingsUsage(body: unknown): ExtractedUsage | undefined {
  if (!isRecord(body)) return undefined;
  const usage = record(body.usage);
  if (!usage) return undefined;
  const result: ExtractedUsage = {
    inputTokens: count(usage.prompt_tokens),
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    estimated: false,
  };
  const model = str(body.model);
  if (model !== undefined) result.servedModel = model;
  return result;
}
