// The façade's route table: which wire API a (method, path) pair is. All four families share
// one port; their paths do not collide except GET /v1/models, told apart by Anthropic's headers.
import type { IncomingHttpHeaders } from "node:http";
import type { Api, WireFamily } from "../providers/types.js";

export type FacadeRoute =
  | {
      kind: "inference";
      api: Api;
      family: WireFamily;
      /** Gemini carries model and mode in the path. */ model?: string;
      stream?: boolean;
    }
  | { kind: "models"; family: WireFamily };

const POST_ROUTES = new Map<string, FacadeRoute>([
  ["/v1/chat/completions", { kind: "inference", api: "openai.chat", family: "openai" }],
  ["/v1/responses", { kind: "inference", api: "openai.responses", family: "openai" }],
  ["/v1/embeddings", { kind: "inference", api: "openai.embeddings", family: "openai" }],
  ["/v1/messages", { kind: "inference", api: "anthropic.messages", family: "anthropic" }],
  ["/v1/messages/count_tokens", { kind: "inference", api: "anthropic.count_tokens", family: "anthropic" }],
  ["/api/chat", { kind: "inference", api: "ollama.chat", family: "ollama" }],
  ["/api/generate", { kind: "inference", api: "ollama.generate", family: "ollama" }],
  ["/api/embed", { kind: "inference", api: "ollama.embed", family: "ollama" }],
  // Ollama's older single-prompt embeddings endpoint, still what many clients call.
  ["/api/embeddings", { kind: "inference", api: "ollama.embeddings", family: "ollama" }],
]);

/** Gemini's model actions (`/v1beta/models/{model}:{action}`) and the API each one is. */
const GEMINI_ACTIONS = new Map<string, { api: Api; stream: boolean }>([
  ["generateContent", { api: "google.generate", stream: false }],
  ["streamGenerateContent", { api: "google.generate", stream: true }],
  ["embedContent", { api: "google.embed", stream: false }],
  ["batchEmbedContents", { api: "google.batch_embed", stream: false }],
  ["countTokens", { api: "google.count_tokens", stream: false }],
]);

const GEMINI_PREFIX = "/v1beta/models/";

export function matchRoute(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
): FacadeRoute | undefined {
  if (method === "POST") {
    const r = POST_ROUTES.get(path);
    if (r) return r;
    if (path.startsWith(GEMINI_PREFIX)) {
      const rest = decodeURIComponent(path.slice(GEMINI_PREFIX.length));
      const colon = rest.lastIndexOf(":");
      if (colon <= 0) return undefined;
      const action = GEMINI_ACTIONS.get(rest.slice(colon + 1));
      if (action) return { kind: "inference", family: "google", model: rest.slice(0, colon), ...action };
    }
    return undefined;
  }
  if (method === "GET") {
    if (path === "/v1/models")
      return {
        kind: "models",
        family:
          headers["anthropic-version"] !== undefined || headers["x-api-key"] !== undefined
            ? "anthropic"
            : "openai",
      };
    if (path === "/v1beta/models") return { kind: "models", family: "google" };
    if (path === "/api/tags") return { kind: "models", family: "ollama" };
  }
  return undefined;
}
