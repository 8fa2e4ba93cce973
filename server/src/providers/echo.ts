// The echo provider: answers in-process, in every wire family, with `echo: <last user text>`.
// It is what a first request hits before any real provider is configured, so its output
// follows each provider's exact format and parses with the official SDKs.
import { isRecord } from "../usage/taps/fields.js";
import { echoCountTokens, echoMessages, anthropicError } from "./echo/anthropic.js";
import type { EchoResponse } from "./echo/encode.js";
import {
  echoBatchEmbed,
  echoEmbedContent,
  echoGenerate,
  echoGoogleCountTokens,
  googleError,
} from "./echo/google.js";
import {
  echoOllamaChat,
  echoOllamaEmbed,
  echoOllamaEmbeddings,
  echoOllamaGenerate,
  ollamaError,
} from "./echo/ollama.js";
import { echoChat, echoEmbeddings, echoResponses, openaiError } from "./echo/openai.js";
import { ECHO_MODEL } from "./echo/text.js";
import { API_FAMILY, type Api, type ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

export type { EchoResponse } from "./echo/encode.js";
export { ECHO_MODEL } from "./echo/text.js";

/** The models the echo provider lists. */
export const ECHO_MODELS: readonly string[] = [ECHO_MODEL];

function badRequest(api: Api, message: string): EchoResponse {
  switch (API_FAMILY[api]) {
    case "openai":
      return openaiError(400, message);
    case "anthropic":
      return anthropicError(400, message);
    case "google":
      return googleError(400, message);
    case "ollama":
      return ollamaError(400, message);
  }
}

/** A complete response for `api`, in that API's own format. `stream` is ignored where the API never streams. */
export function echoRespond(api: Api, body: unknown, stream: boolean): EchoResponse {
  if (!isRecord(body)) return badRequest(api, "the request body must be a JSON object");
  switch (api) {
    case "openai.chat":
      return echoChat(body, stream);
    case "openai.responses":
      return echoResponses(body, stream);
    case "openai.embeddings":
      return echoEmbeddings(body);
    case "anthropic.messages":
      return echoMessages(body, stream);
    case "anthropic.count_tokens":
      return echoCountTokens(body);
    case "google.generate":
      return echoGenerate(body, stream);
    case "google.embed":
      return echoEmbedContent(body);
    case "google.batch_embed":
      return echoBatchEmbed(body);
    case "google.count_tokens":
      return echoGoogleCountTokens(body);
    case "ollama.chat":
      return echoOllamaChat(body, stream);
    case "ollama.generate":
      return echoOllamaGenerate(body, stream);
    case "ollama.embed":
      return echoOllamaEmbed(body);
    case "ollama.embeddings":
      return echoOllamaEmbeddings(body);
  }
}

/** The native path of every API, for logs; echo never goes over the network. */
const ECHO_PATHS: Record<Api, string> = {
  "openai.chat": "/v1/chat/completions",
  "openai.responses": "/v1/responses",
  "openai.embeddings": "/v1/embeddings",
  "anthropic.messages": "/v1/messages",
  "anthropic.count_tokens": "/v1/messages/count_tokens",
  "google.generate": "/v1beta/models/echo-1:generateContent",
  "google.embed": "/v1beta/models/echo-1:embedContent",
  "google.batch_embed": "/v1beta/models/echo-1:batchEmbedContents",
  "google.count_tokens": "/v1beta/models/echo-1:countTokens",
  "ollama.chat": "/api/chat",
  "ollama.generate": "/api/generate",
  "ollama.embed": "/api/embed",
  "ollama.embeddings": "/api/embeddings",
};

/**
 * The echo adapter. It serves every family natively (see servesApi in ./index.ts): handlers
 * call echoRespond with the client's own API instead of forwarding or translating.
 */
export const echoAdapter: ProviderAdapter = {
  type: "echo",
  family: "openai",
  defaultBaseUrl: "echo://local",
  needsCredential: false,
  upstreamPath: (api) => ECHO_PATHS[api],
  credentialHeaders: () => [],
  defaultHeaders: () => [],
  ...usageMethods,
  probePath: "/v1/models",
};
