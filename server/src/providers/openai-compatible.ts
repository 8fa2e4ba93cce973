// Any server speaking OpenAI's wire (OpenRouter, vLLM, LM Studio, ...). The base URL comes from
// the config; a credential is optional (a local vLLM usually has none).
import { bearer } from "./common.js";
import { openaiPath } from "./openai.js";
import type { ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

export const openaiCompatibleAdapter: ProviderAdapter = {
  type: "openai-compatible",
  family: "openai",
  // vLLM's default address; real deployments set baseUrl (e.g. https://openrouter.ai/api/v1).
  defaultBaseUrl: "http://localhost:8000/v1",
  needsCredential: false,
  upstreamPath: openaiPath("openai-compatible"),
  credentialHeaders: bearer,
  defaultHeaders: () => [],
  ...usageMethods,
  probePath: "/models",
};
