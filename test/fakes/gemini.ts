// The Gemini (Google AI generativelanguage v1beta) wire format.
// Shapes: ai.google.dev/api/generate-content (GenerateContentResponse, UsageMetadata),
// ai.google.dev/api/tokens (countTokens), ai.google.dev/api/embeddings (embedContent, and
// batchEmbedContents, whose requests must each name the path's model),
// ai.google.dev/api/models (list). `:streamGenerateContent?alt=sse` sends each response as
// `data: <json>` ended by CRLF CRLF (googleapis/js-genai responseLineRE; recorded streams): chunks
// before the last carry promptTokenCount/totalTokenCount only, the last adds finishReason and
// candidatesTokenCount. Without alt=sse the same responses come as one JSON array.
// Errors: `{ error: { code, message, status, details? } }` (ai.google.dev/gemini-api/docs/troubleshooting);
// a wrong key is 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID, a missing key 403
// PERMISSION_DENIED; 429 RESOURCE_EXHAUSTED carries its delay as a RetryInfo detail, not a header.
import { answerPieces, answerText } from "./content.js";
import { ev, jsonReply, streamReply } from "./reply.js";
import type { ErrorOptions, FamilyDef, HandlerContext, Reply, RouteMatch, StreamEvent } from "./types.js";

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "NOT_IMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

const MESSAGES: Record<number, string> = {
  400: "Request contains an invalid argument.",
  403: "The caller does not have permission",
  429: "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
  500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  503: "The model is overloaded. Please try again later.",
  504: "The request timed out. Please try again.",
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT");
}

function errorBody(status: number, message: string, details?: unknown[]): Record<string, unknown> {
  const error: Record<string, unknown> = { code: status, message, status: statusName(status) };
  if (details) error.details = details;
  return { error };
}

export function geminiError(opts: ErrorOptions): Reply {
  const notFound =
    opts.status === 404
      ? `models/${opts.model ?? "unknown"} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`
      : undefined;
  const message = opts.message ?? notFound ?? MESSAGES[opts.status] ?? "Request failed.";
  const details =
    opts.retryAfter !== undefined
      ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${opts.retryAfter}s` }]
      : undefined;
  return jsonReply(opts.status, errorBody(opts.status, message, details), {
    "content-type": "application/json; charset=UTF-8",
  });
}

function authenticate(
  headers: Record<string, string>,
  query: Record<string, string>,
  expected: string | undefined,
) {
  const key = headers["x-goog-api-key"] ?? query.key;
  if (key === undefined || key === "") {
    return geminiError({
      status: 403,
      message:
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    });
  }
  if (expected !== undefined && key !== expected) {
    const message = "API key not valid. Please pass a valid API key.";
    return jsonReply(
      400,
      errorBody(400, message, [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" },
        },
      ]),
      { "content-type": "application/json; charset=UTF-8" },
    );
  }
  return undefined;
}

function noContents(): Reply {
  return geminiError({
    status: 400,
    message: "* GenerateContentRequest.contents: contents is not specified\n",
  });
}

function promptDetails(count: number): unknown[] {
  return [{ modality: "TEXT", tokenCount: count }];
}

function finalUsage(ctx: HandlerContext): Record<string, unknown> {
  const u = ctx.usage;
  const usage: Record<string, unknown> = {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output,
    totalTokenCount: u.input + u.output,
  };
  if (u.cacheRead > 0) usage.cachedContentTokenCount = u.cacheRead;
  usage.promptTokensDetails = promptDetails(u.input);
  if (u.cacheRead > 0) usage.cacheTokensDetails = promptDetails(u.cacheRead);
  usage.candidatesTokensDetails = promptDetails(u.output);
  return usage;
}

function candidate(text: string, finished: boolean): Record<string, unknown> {
  const c: Record<string, unknown> = { content: { parts: [{ text }], role: "model" } };
  if (finished) c.finishReason = "STOP";
  c.index = 0;
  return c;
}

function generate(ctx: HandlerContext): Reply {
  if (!Array.isArray(ctx.body.contents)) return noContents();
  return jsonReply(200, {
    candidates: [candidate(answerText(ctx.pieces), true)],
    usageMetadata: finalUsage(ctx),
    modelVersion: ctx.model,
    responseId: ctx.id("fakeresp"),
  });
}

function streamChunks(ctx: HandlerContext): Record<string, unknown>[] {
  const responseId = ctx.id("fakeresp");
  const pieces = answerPieces(ctx.pieces);
  return pieces.map((text, i) => {
    const last = i === pieces.length - 1;
    const usageMetadata = last
      ? finalUsage(ctx)
      : {
          promptTokenCount: ctx.usage.input,
          totalTokenCount: ctx.usage.input,
          promptTokensDetails: promptDetails(ctx.usage.input),
        };
    return { candidates: [candidate(text, last)], usageMetadata, modelVersion: ctx.model, responseId };
  });
}

function streamGenerate(ctx: HandlerContext): Reply {
  if (!Array.isArray(ctx.body.contents)) return noContents();
  const chunks = streamChunks(ctx);
  if (!ctx.stream) return jsonReply(200, chunks);
  return streamReply(
    "sse-crlf",
    chunks.map((c) => ev(c)),
    "text/event-stream",
  );
}

function streamError(): StreamEvent[] {
  return [ev(errorBody(503, MESSAGES[503] ?? "The model is overloaded."))];
}

function countTokens(ctx: HandlerContext): Reply {
  return jsonReply(200, {
    totalTokens: ctx.usage.input,
    promptTokensDetails: promptDetails(ctx.usage.input),
  });
}

function embedContent(ctx: HandlerContext): Reply {
  const dims = typeof ctx.body.outputDimensionality === "number" ? ctx.body.outputDimensionality : 8;
  const values: number[] = [];
  for (let j = 0; j < dims; j++) values.push(Math.fround(Math.cos(1 + j / 10)));
  return jsonReply(200, { embedding: { values } });
}

/** batchEmbedContents: `{embeddings: [{values}]}`, one per request, in order (no token counts). */
function batchEmbedContents(ctx: HandlerContext): Reply {
  const requests = Array.isArray(ctx.body.requests) ? ctx.body.requests : [];
  const name = `models/${ctx.model}`;
  // Gemini refuses a batch whose requests name another model than the path.
  for (const r of requests) {
    const model = typeof r === "object" && r !== null ? (r as Record<string, unknown>).model : undefined;
    if (model !== name) return geminiError({ status: 400 });
  }
  return jsonReply(200, {
    embeddings: requests.map((_, i) => ({ values: [Math.fround(Math.cos(i)), Math.fround(Math.sin(i))] })),
  });
}

function models(ctx: HandlerContext): Reply {
  return jsonReply(200, {
    models: ctx.models.map((id) => ({
      name: `models/${id}`,
      version: "001",
      displayName: id,
      description: `Fake ${id}`,
      inputTokenLimit: 1048576,
      outputTokenLimit: 8192,
      supportedGenerationMethods: ["generateContent", "countTokens"],
      temperature: 1,
      topP: 0.95,
      topK: 40,
      maxTemperature: 2,
    })),
  });
}

export const GEMINI_MODELS = ["gemini-2.0-flash", "gemini-1.5-pro", "text-embedding-004"];

/** Matches /v1beta/models/{model}:{action}. */
function action(name: string, streams = false) {
  return (path: string, _h: unknown, query: Record<string, string>): RouteMatch | undefined => {
    const m = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/.exec(path);
    if (!m || m[2] !== name) return undefined;
    return { model: decodeURIComponent(m[1] ?? ""), stream: streams && query.alt === "sse" };
  };
}

const never = (): boolean => false;

export const gemini: FamilyDef = {
  family: "google",
  authenticate,
  error: geminiError,
  routes: [
    {
      route: "google.generate",
      method: "POST",
      match: action("generateContent"),
      isStream: never,
      handle: generate,
    },
    {
      route: "google.generate",
      method: "POST",
      match: action("streamGenerateContent", true),
      isStream: never,
      handle: streamGenerate,
      streamError,
    },
    {
      route: "google.count_tokens",
      method: "POST",
      match: action("countTokens"),
      isStream: never,
      handle: countTokens,
    },
    {
      route: "google.embed",
      method: "POST",
      match: action("embedContent"),
      isStream: never,
      handle: embedContent,
    },
    {
      route: "google.batch_embed",
      method: "POST",
      match: action("batchEmbedContents"),
      isStream: never,
      handle: batchEmbedContents,
    },
    {
      route: "google.models",
      method: "GET",
      match: (p) => (p === "/v1beta/models" ? { model: "" } : undefined),
      isStream: never,
      handle: models,
    },
  ],
};
