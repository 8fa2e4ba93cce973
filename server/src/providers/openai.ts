// OpenAI's own API: chat completions, Responses and embeddings, authenticated with a Bearer key.
import type { ProviderType } from "../config/types.js";
import { UnsupportedApiError, bearer } from "./common.js";
import type { Api, ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

const OPENAI_PATHS: Partial<Record<Api, string>> = {
  "openai.chat": "/chat/completions",
  "openai.responses": "/responses",
  "openai.embeddings": "/embeddings",
};

/** The OpenAI wire paths; the stream flag travels in the body, so the path never changes. */
export function openaiPath(type: ProviderType): (api: Api) => string {
  return (api) => {
    const path = OPENAI_PATHS[api];
    if (path === undefined) throw new UnsupportedApiError(type, api);
    return path;
  };
}

export const openaiAdapter: ProviderAdapter = {
  type: "openai",
  family: "openai",
  defaultBaseUrl: "https://api.openai.com/v1",
  needsCredential: true,
  upstreamPath: openaiPath("openai"),
  credentialHeaders: bearer,
  defaultHeaders: () => [],
  ...usageMethods,
  probePath: "/models",
};
