// What a tap reports when a stream ends before its usage event: the counts seen so far, with
// output estimated from the streamed text (about four characters per token).
import type { ExtractedUsage } from "../../providers/types.js";

export interface TapOptions {
  /** The request's input size if the caller estimated it; used when the stream never reports it. */
  estimatedInputTokens?: number;
}

export function estimateTokens(chars: number): number {
  return chars > 0 ? Math.ceil(chars / 4) : 0;
}

export interface PartialUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  servedModel?: string;
}

/** Known counts win; unknown input falls back to the caller's estimate, output to the text seen. */
export function estimatedUsage(known: PartialUsage, streamedChars: number, opts: TapOptions): ExtractedUsage {
  const usage: ExtractedUsage = {
    inputTokens: known.inputTokens ?? Math.max(0, Math.ceil(opts.estimatedInputTokens ?? 0)),
    outputTokens: Math.max(known.outputTokens ?? 0, estimateTokens(streamedChars)),
    cacheReadTokens: known.cacheReadTokens ?? 0,
    cacheWriteTokens: known.cacheWriteTokens ?? 0,
    estimated: true,
  };
  if (known.servedModel !== undefined) usage.servedModel = known.servedModel;
  return usage;
}
