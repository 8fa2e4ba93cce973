// Cross-format translation: a client speaking OpenAI chat completions or Anthropic Messages
// served by a provider of another wire family, through one hub representation (hub.ts).
import { decodeAnthropicRequest, encodeAnthropicRequest } from "./anthropic.js";
import { decodeAnthropicResponse, encodeAnthropicResponse } from "./anthropic-response.js";
import { encodeClientError, upstreamErrorToHub } from "./error-body.js";
import { decodeGeminiResponse, encodeGeminiRequest } from "./gemini.js";
import type { ClientFamily, HubRequest, HubResponse, ToolIdMinter, WireFamily } from "./hub.js";
import { toolIdMinter } from "./ids.js";
import { isRecord, parseBody } from "./narrow.js";
import { decodeOllamaResponse, encodeOllamaRequest } from "./ollama.js";
import { decodeOpenAIRequest, encodeOpenAIRequest } from "./openai-chat.js";
import { decodeOpenAIResponse, encodeOpenAIResponse } from "./openai-chat-response.js";

export { TranslationError } from "./errors.js";
export { createStreamTranslator, type StreamTranslator, type StreamContext } from "./stream.js";
export type { ClientFamily } from "./hub.js";

/**
 * Rewrites a client request for a provider of family `to`. `body` may be parsed JSON, text or
 * bytes. Throws TranslationError (status 400) naming any feature `to` cannot express.
 * Gemini bodies carry no model and no stream flag: both live in the URL the caller builds.
 */
export function translateRequest(
  from: ClientFamily,
  to: WireFamily,
  body: unknown,
  opts: { model: string; stream: boolean },
): { body: unknown } {
  const parsed = parseBody(body);
  if (from === to)
    return { body: isRecord(parsed) ? { ...parsed, model: opts.model, stream: opts.stream } : parsed };
  const hub: HubRequest =
    from === "openai" ? decodeOpenAIRequest(parsed, to) : decodeAnthropicRequest(parsed, to);
  switch (to) {
    case "openai":
      return { body: encodeOpenAIRequest(hub, opts) };
    case "anthropic":
      return { body: encodeAnthropicRequest(hub, opts) };
    case "google":
      return { body: encodeGeminiRequest(hub) };
    case "ollama":
      return { body: encodeOllamaRequest(hub, opts) };
  }
}

function decodeResponse(from: WireFamily, body: unknown, mintId: ToolIdMinter): HubResponse {
  switch (from) {
    case "openai":
      return decodeOpenAIResponse(body, mintId);
    case "anthropic":
      return decodeAnthropicResponse(body, mintId);
    case "google":
      return decodeGeminiResponse(body, mintId);
    case "ollama":
      return decodeOllamaResponse(body, mintId);
  }
}

/**
 * Rewrites a successful non-streamed upstream body into the client's response format.
 * `ctx.id` becomes the response id and seeds tool-call ids the upstream did not give.
 */
export function translateResponse(
  from: WireFamily,
  to: ClientFamily,
  body: unknown,
  ctx: { requestedModel: string; id: string },
): unknown {
  const parsed = parseBody(body);
  if (from === to) return parsed;
  const hub = decodeResponse(from, parsed, toolIdMinter(to, ctx.id));
  return to === "openai" ? encodeOpenAIResponse(hub, ctx) : encodeAnthropicResponse(hub, ctx);
}

/** Rewrites an upstream error body (of HTTP `status`) into the client's error shape, keeping its message. */
export function translateError(from: WireFamily, to: ClientFamily, status: number, body: unknown): unknown {
  return encodeClientError(to, upstreamErrorToHub(from, status, body));
}
