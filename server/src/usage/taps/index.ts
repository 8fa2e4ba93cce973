// Usage extraction for every API: from complete bodies and from streams (taps).
import type { Api, ExtractedUsage, StreamTap } from "../../providers/types.js";
import { createAnthropicTap, anthropicMessagesUsage } from "./anthropic.js";
import { type TapOptions, estimatedUsage } from "./estimate.js";
import { createGoogleTap, googleGenerateUsage } from "./google.js";
import { parseJson } from "./fields.js";
import { createOllamaTap, ollamaUsage } from "./ollama.js";
import { createOpenAIChatTap, openaiChatUsage } from "./openai-chat.js";
import { openaiEmbeddingsUsage } from "./openai-embeddings.js";
import { createOpenAIResponsesTap, openaiResponsesUsage } from "./openai-responses.js";

export type { TapOptions } from "./estimate.js";

/** Counting tokens is free: a count_tokens call consumes nothing. */
const FREE: Readonly<ExtractedUsage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  estimated: false,
});

/** For APIs whose answers never carry counts (their bodies, often megabytes of vectors, go unparsed). */
const reportsNone = (): undefined => undefined;

const FROM_JSON: Record<Api, (body: unknown) => ExtractedUsage | undefined> = {
  "openai.chat": openaiChatUsage,
  "openai.responses": openaiResponsesUsage,
  "openai.embeddings": openaiEmbeddingsUsage,
  "anthropic.messages": anthropicMessagesUsage,
  "anthropic.count_tokens": () => ({ ...FREE }),
  "google.generate": googleGenerateUsage,
  // Gemini's embedding answers and Ollama's /api/embeddings carry no token counts (see
  // RequestInfo.unreportedInputChars); /api/embed reports prompt_eval_count like /api/chat.
  "google.embed": reportsNone,
  "google.batch_embed": reportsNone,
  "google.count_tokens": () => ({ ...FREE }),
  "ollama.chat": ollamaUsage,
  "ollama.generate": ollamaUsage,
  "ollama.embed": ollamaUsage,
  "ollama.embeddings": reportsNone,
};

/** Token-counting calls, which consume nothing. */
export const isCountTokens = (api: Api): boolean =>
  api === "anthropic.count_tokens" || api === "google.count_tokens";

/** Usage from an already-parsed response body; undefined if the body reports none. */
export function usageFromJson(api: Api, body: unknown): ExtractedUsage | undefined {
  return FROM_JSON[api](body);
}

const decoder = new TextDecoder();

/** Usage from a complete response body's bytes; undefined if unparseable or without usage. */
export function usageFromBody(api: Api, body: Uint8Array): ExtractedUsage | undefined {
  if (isCountTokens(api)) return { ...FREE };
  const read = FROM_JSON[api];
  return read === reportsNone ? undefined : read(parseJson(decoder.decode(body)));
}

/** APIs that never stream: the tap only reports the caller's estimate. */
function createInertTap(api: Api, opts: TapOptions): StreamTap {
  return {
    push() {},
    result: () => (isCountTokens(api) ? { ...FREE } : estimatedUsage({}, 0, opts)),
    streamError: () => undefined,
  };
}

export function createUsageTap(api: Api, opts: TapOptions = {}): StreamTap {
  switch (api) {
    case "openai.chat":
      return createOpenAIChatTap(opts);
    case "openai.responses":
      return createOpenAIResponsesTap(opts);
    case "anthropic.messages":
      return createAnthropicTap(opts);
    case "google.generate":
      return createGoogleTap(opts);
    case "ollama.chat":
    case "ollama.generate":
      return createOllamaTap(opts);
    case "openai.embeddings":
    case "anthropic.count_tokens":
    case "google.embed":
    case "google.batch_embed":
    case "google.count_tokens":
    case "ollama.embed":
    case "ollama.embeddings":
      return createInertTap(api, opts);
  }
}
