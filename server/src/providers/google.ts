// Google's Gemini API (generativelanguage.googleapis.com), authenticated with x-goog-api-key.
import { UnsupportedApiError } from "./common.js";
import type { Api, ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

/** Paths per model are memoised; the set of models in use is small, but the cap keeps it so. */
const MAX_CACHED_MODELS = 1024;

/** A model's upstream path for each call: generate, stream, embed, batch embed, count tokens. */
type ModelPaths = readonly [string, string, string, string, string];
const pathCache = new Map<string, ModelPaths>();

function modelPaths(model: string): ModelPaths {
  let paths = pathCache.get(model);
  if (paths === undefined) {
    // Clients may pass the resource name ("models/gemini-2.5-flash") or the bare id.
    const base = `/v1beta/models/${encodeURIComponent(model.startsWith("models/") ? model.slice(7) : model)}`;
    paths = [
      `${base}:generateContent`,
      `${base}:streamGenerateContent?alt=sse`,
      `${base}:embedContent`,
      `${base}:batchEmbedContents`,
      `${base}:countTokens`,
    ];
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
    const paths = modelPaths(model);
    switch (api) {
      case "google.generate":
        return paths[stream ? 1 : 0];
      case "google.embed":
        return paths[2];
      case "google.batch_embed":
        return paths[3];
      case "google.count_tokens":
        return paths[4];
      default:
        throw new UnsupportedApiError("google", api);
    }
  },
  credentialHeaders: (credential) => [["x-goog-api-key", credential]],
  defaultHeaders: () => [],
  ...usageMethods,
  probePath: "/v1beta/models",
};
