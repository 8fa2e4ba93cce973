// A local (or remote) Ollama server: /api/chat, /api/generate, /api/embed and /api/embeddings, no
// credential by default.
import { UnsupportedApiError, bearer } from "./common.js";
import type { Api, ProviderAdapter } from "./types.js";
import { usageMethods } from "./usage.js";

export const ollamaAdapter: ProviderAdapter = {
  type: "ollama",
  family: "ollama",
  defaultBaseUrl: "http://localhost:11434",
  needsCredential: false,
  upstreamPath(api: Api) {
    if (api === "ollama.chat") return "/api/chat";
    if (api === "ollama.generate") return "/api/generate";
    if (api === "ollama.embed") return "/api/embed";
    if (api === "ollama.embeddings") return "/api/embeddings";
    throw new UnsupportedApiError("ollama", api);
  },
  // Ollama itself takes no key; one configured anyway (an auth proxy, ollama.com) goes as Bearer.
  credentialHeaders: bearer,
  defaultHeaders: () => [],
  ...usageMethods,
  probePath: "/api/tags",
};
