// Google's Gemini API (generativelanguage.googleapis.com), authenticated with x-goog-api-key.
import { UnsupportedApiError } from "./common.js";
import type { Api, ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

/** Paths per model are memoised; the set of models in use is small, but the cap keeps it so. */
const MAX_CACHED_MODELS = 1024;
const pathCache = new Map<string, readonly [string, string]>();

function modelPaths(model: string): readonly [string, string] {
  let paths = pathCache.get(model);
  if (paths === undefined) {
    // Clients may pass the resource name ("models/gemini-2.5-flash") or the bare id.
    const id = encodeURIComponent(model.startsWith("models/") ? model.slice(7) : model);
    paths = [`/v1beta/models/${id}:generateContent`, `/v1beta/models/${id}:streamGenerateContent?alt=sse`];
    if (pathCache.size >= MAX_CACHED_MODELS) pathCache.clear();
    pathCache.set(model, paths);
  }
  return paths;
}

export const googleAdapter: ProviderAdapter = {
  type: "google",
  family: "google",
  defaultBaseUrl: "https://generativelanguage.googleapis.com",
  needsCredential: true,
  upstreamPath(api: Api, model: string, stream: boolean) {
    if (api !== "google.generate") throw new UnsupportedApiError("google", api);
    return modelPaths(model)[stream ? 1 : 0];
  },
  credentialHeaders: (credential) => [["x-goog-api-key", credential]],
  defaultHeaders: () => [],
  ...usageMethods,
  probePath: "/v1beta/models",
};
