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
      const action = rest.slice(colon + 1);
      if (action === "generateContent" || action === "streamGenerateContent")
        return {
          kind: "inference",
          api: "google.generate",
          family: "google",
          model: rest.slice(0, colon),
          stream: action === "streamGenerateContent",
        };
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
