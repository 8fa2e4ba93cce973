// Anthropic's Messages API, authenticated with x-api-key.
import { UnsupportedApiError } from "./common.js";
import type { Api, ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

/** Sent only when the client did not choose a version itself (the caller checks). */
export const ANTHROPIC_VERSION = "2023-06-01";

export const anthropicAdapter: ProviderAdapter = {
  type: "anthropic",
  family: "anthropic",
  defaultBaseUrl: "https://api.anthropic.com",
  needsCredential: true,
  upstreamPath(api: Api) {
    if (api === "anthropic.messages") return "/v1/messages";
    if (api === "anthropic.count_tokens") return "/v1/messages/count_tokens";
    throw new UnsupportedApiError("anthropic", api);
  },
  credentialHeaders: (credential) => [["x-api-key", credential]],
  defaultHeaders: () => [["anthropic-version", ANTHROPIC_VERSION]],
  ...usageMethods,
  probePath: "/v1/models",
};
