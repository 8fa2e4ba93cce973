// Reads what routing and limits need from a parsed request body, per wire API.
import type { Api } from "../providers/types.js";

export interface RequestInfo {
  model: string | undefined;
  stream: boolean;
  /** The request's output cap (max_tokens or equivalent), if it set one. */
  maxTokens: number | undefined;
  /**
   * For APIs whose answers report no token counts (Gemini embeddings, Ollama's /api/embeddings):
   * the characters of input text, from which the input tokens are estimated.
   */
  unreportedInputChars?: number;
}

type Obj = Record<string, unknown>;

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Characters of the text parts of a Gemini Content ({parts: [{text}]}), the part Gemini counts. */
function googleTextChars(content: unknown): number {
  const parts = obj(content)?.parts;
  if (!Array.isArray(parts)) return 0;
  let chars = 0;
  for (const part of parts) {
    const text = obj(part)?.text;
    if (typeof text === "string") chars += text.length;
  }
  return chars;
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
    case "google.count_tokens":
    case "ollama.embed":
      return { model, stream: false, maxTokens: 0 };
    // Answers that report no token counts: the input is estimated from the text sent.
    case "google.embed":
      return { model, stream: false, maxTokens: 0, unreportedInputChars: googleTextChars(body.content) };
    case "google.batch_embed": {
      let chars = 0;
      if (Array.isArray(body.requests))
        for (const r of body.requests) chars += googleTextChars(obj(r)?.content);
      return { model, stream: false, maxTokens: 0, unreportedInputChars: chars };
    }
    case "ollama.embeddings":
      return {
        model,
        stream: false,
        maxTokens: 0,
        unreportedInputChars: typeof body.prompt === "string" ? body.prompt.length : 0,
      };
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
