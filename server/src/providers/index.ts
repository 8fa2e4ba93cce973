// One adapter per provider type; handlers look adapters up here and stay generic.
import type { ProviderType } from "../config/types.js";
import { anthropicAdapter } from "./anthropic.js";
import { echoAdapter } from "./echo.js";
import { googleAdapter } from "./google.js";
import { ollamaAdapter } from "./ollama.js";
import { openaiCompatibleAdapter } from "./openai-compatible.js";
import { openaiAdapter } from "./openai.js";
import { API_FAMILY, type Api, type ProviderAdapter } from "./types.js";

export { ANTHROPIC_VERSION } from "./anthropic.js";
export { UnsupportedApiError } from "./common.js";
export { ECHO_MODEL, ECHO_MODELS, type EchoResponse, echoRespond } from "./echo.js";
export { createUrlJoiner, joinUpstreamUrl } from "./url.js";

const ADAPTERS: Readonly<Record<ProviderType, ProviderAdapter>> = Object.freeze({
  openai: openaiAdapter,
  "openai-compatible": openaiCompatibleAdapter,
  anthropic: anthropicAdapter,
  google: googleAdapter,
  ollama: ollamaAdapter,
  echo: echoAdapter,
});

export function adapterFor(type: ProviderType): ProviderAdapter {
  return ADAPTERS[type];
}

/** Whether a provider of this adapter answers `api` without translation (echo answers all). */
export function servesApi(adapter: ProviderAdapter, api: Api): boolean {
  return adapter.type === "echo" || API_FAMILY[api] === adapter.family;
}
