// The contract every provider adapter fulfils. Handlers stay generic; everything that
// differs between wire formats lives behind this interface.
import type { ProviderType } from "../config/types.js";
import type { TokenUsage } from "../usage/record.js";

/** The four wire families a client can speak and an upstream can serve. */
export type WireFamily = "openai" | "anthropic" | "google" | "ollama";

/** One client-facing API call kind. Streaming is a separate flag. */
export type Api =
  | "openai.chat"
  | "openai.responses"
  | "openai.embeddings"
  | "anthropic.messages"
  | "anthropic.count_tokens"
  | "google.generate"
  | "google.embed"
  | "google.batch_embed"
  | "google.count_tokens"
  | "ollama.chat"
  | "ollama.generate"
  | "ollama.embed"
  | "ollama.embeddings";

export const API_FAMILY: Record<Api, WireFamily> = {
  "openai.chat": "openai",
  "openai.responses": "openai",
  "openai.embeddings": "openai",
  "anthropic.messages": "anthropic",
  "anthropic.count_tokens": "anthropic",
  "google.generate": "google",
  "google.embed": "google",
  "google.batch_embed": "google",
  "google.count_tokens": "google",
  "ollama.chat": "ollama",
  "ollama.generate": "ollama",
  "ollama.embed": "ollama",
  "ollama.embeddings": "ollama",
};

/** Usage read from a response, plus the model the upstream says it served. */
export interface ExtractedUsage extends TokenUsage {
  servedModel?: string;
  /** True when the counts were estimated (e.g. a stream cut before its usage event). */
  estimated: boolean;
}

/**
 * Reads usage from a streamed response without buffering it. push() gets each raw
 * upstream chunk exactly as it arrives; it must never throw on malformed input.
 */
export interface StreamTap {
  push(chunk: Uint8Array): void;
  /** Usage seen so far: complete after the usage event(s), partial (estimated) if the stream was cut. */
  result(): ExtractedUsage;
  /** An error event seen in the stream (e.g. Anthropic `event: error`), if any. */
  streamError(): string | undefined;
}

export interface ProviderAdapter {
  type: ProviderType;
  family: WireFamily;
  defaultBaseUrl: string;
  /** Whether a credential is required (false for ollama, echo). */
  needsCredential: boolean;
  /**
   * The upstream path (with query) for an API call, appended to the provider's base URL
   * (whose own path, e.g. "/api/v1", is kept).
   */
  upstreamPath(api: Api, model: string, stream: boolean): string;
  /** Header pairs that carry the real credential upstream (lower-case names). */
  credentialHeaders(credential: string): [string, string][];
  /** Header pairs every upstream request of this type carries (e.g. a default anthropic-version). */
  defaultHeaders(): [string, string][];
  /** Usage from a complete (non-streaming) response body. Undefined if the body has none. */
  usageFromBody(api: Api, body: Uint8Array): ExtractedUsage | undefined;
  /** estimatedInputTokens lets a tap report input usage for a stream cut before its usage event. */
  createStreamTap(api: Api, opts?: { estimatedInputTokens?: number }): StreamTap;
  /** Path for a cheap authenticated call used by probes (e.g. list models). */
  probePath: string;
}
