// Reads what routing and limits need from a parsed request body, per wire API.
import type { Api } from "../providers/types.js";

export interface RequestInfo {
  model: string | undefined;
  stream: boolean;
  /** The request's output cap (max_tokens or equivalent), if it set one. */
  maxTokens: number | undefined;
}

type Obj = Record<string, unknown>;

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

export function requestInfo(api: Api, body: Obj): RequestInfo {
  const model = typeof body.model === "string" && body.model.length > 0 ? body.model : undefined;
  switch (api) {
    case "openai.chat":
      return {
        model,
        stream: body.stream === true,
        maxTokens: num(body.max_completion_tokens) ?? num(body.max_tokens),
      };
    case "openai.responses":
      return { model, stream: body.stream === true, maxTokens: num(body.max_output_tokens) };
    case "openai.embeddings":
    case "anthropic.count_tokens":
      return { model, stream: false, maxTokens: 0 };
    case "anthropic.messages":
      return { model, stream: body.stream === true, maxTokens: num(body.max_tokens) };
    case "google.generate":
      return { model, stream: false, maxTokens: num(obj(body.generationConfig)?.maxOutputTokens) };
    case "ollama.chat":
    case "ollama.generate":
      // Ollama streams unless told not to.
      return { model, stream: body.stream !== false, maxTokens: num(obj(body.options)?.num_predict) };
  }
}
