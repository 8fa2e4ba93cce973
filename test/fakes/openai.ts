// The OpenAI wire format: routes, Bearer auth and the `{ error: { message, type, param, code } }` body.
// Error types/codes as the API sends them (platform.openai.com/docs/guides/error-codes and
// recorded bodies): 401 invalid_request_error/invalid_api_key, 429 type "requests" with
// code rate_limit_exceeded, 404 model_not_found, 5xx server_error.
// Embeddings: openai-node CreateEmbeddingResponse; the SDK asks for encoding_format "base64" by
// default and decodes little-endian float32 (resources/embeddings.mjs, internal/utils/base64).
// Models: openai-node Model ({ id, object: "model", created, owned_by }) in a list.
import { chatCompletion, chatStreamError, missingParam, noModel } from "./openai-chat.js";
import { createResponse, responsesStreamError } from "./openai-responses.js";
import { jsonReply, retryAfterHeader } from "./reply.js";
import type { ErrorOptions, FamilyDef, HandlerContext, Reply, RouteMatch } from "./types.js";

interface ErrorKind {
  type: string;
  code: string | null;
  message: string;
}

function errorKind(status: number, model: string | undefined): ErrorKind {
  switch (status) {
    case 401:
      return {
        type: "invalid_request_error",
        code: "invalid_api_key",
        message:
          "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
      };
    case 403:
      return {
        type: "invalid_request_error",
        code: "unsupported_country_region_territory",
        message: "Country, region, or territory not supported",
      };
    case 404:
      return {
        type: "invalid_request_error",
        code: "model_not_found",
        message: `The model \`${model ?? "unknown"}\` does not exist or you do not have access to it.`,
      };
    case 429:
      return {
        type: "requests",
        code: "rate_limit_exceeded",
        message: "Rate limit reached for requests per min (RPM). Please try again later.",
      };
    case 503:
      return {
        type: "server_error",
        code: null,
        message: "The engine is currently overloaded, please try again later",
      };
    default:
      return status >= 500
        ? {
            type: "server_error",
            code: null,
            message: "The server had an error while processing your request. Sorry about that!",
          }
        : { type: "invalid_request_error", code: null, message: "Invalid request." };
  }
}

export function openaiError(opts: ErrorOptions): Reply {
  const kind = errorKind(opts.status, opts.model);
  return jsonReply(
    opts.status,
    { error: { message: opts.message ?? kind.message, type: kind.type, param: null, code: kind.code } },
    { "x-request-id": `req_fake${opts.status}`, ...retryAfterHeader(opts.retryAfter) },
  );
}

function authenticate(headers: Record<string, string>, _q: unknown, expected: string | undefined) {
  const auth = headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(auth);
  if (!match) {
    return jsonReply(401, {
      error: {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  }
  if (expected !== undefined && match[1] !== expected) return openaiError({ status: 401 });
  return undefined;
}

/** Number of inputs: a string or token array is one; an array of those is many. */
function inputCount(input: unknown): number {
  if (!Array.isArray(input)) return 1;
  if (input.length === 0) return 0;
  return typeof input[0] === "number" ? 1 : input.length;
}

/** A deterministic unit-ish vector; values depend only on the input index and position. */
function vector(index: number, dims: number): number[] {
  const v: number[] = [];
  for (let j = 0; j < dims; j++) v.push(Math.fround(Math.sin(index + 1 + j / 10)));
  return v;
}

function base64Of(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString("base64");
}

function embeddings(ctx: HandlerContext): Reply {
  if (ctx.model === "") return noModel();
  if (ctx.body.input === undefined) return missingParam("input");
  const dims = typeof ctx.body.dimensions === "number" ? ctx.body.dimensions : 8;
  const base64 = ctx.body.encoding_format === "base64";
  const data = [];
  for (let i = 0; i < inputCount(ctx.body.input); i++) {
    const values = vector(i, dims);
    data.push({ object: "embedding", index: i, embedding: base64 ? base64Of(values) : values });
  }
  return jsonReply(200, {
    object: "list",
    data,
    model: ctx.model,
    usage: { prompt_tokens: ctx.usage.input, total_tokens: ctx.usage.input },
  });
}

function models(ctx: HandlerContext): Reply {
  return jsonReply(200, {
    object: "list",
    data: ctx.models.map((id) => ({ id, object: "model", created: 1715367049, owned_by: "system" })),
  });
}

const post =
  (path: string) =>
  (p: string): RouteMatch | undefined =>
    p === path ? { model: "" } : undefined;
const streamFlag = (body: Record<string, unknown>): boolean => body.stream === true;

/** GET /v1/models is shared with Anthropic; the Anthropic SDK always sends anthropic-version. */
function isAnthropicCall(headers: Record<string, string>): boolean {
  return headers["anthropic-version"] !== undefined || headers["x-api-key"] !== undefined;
}

export const OPENAI_MODELS = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"];

export const openai: FamilyDef = {
  family: "openai",
  authenticate,
  error: openaiError,
  routes: [
    {
      route: "openai.chat",
      method: "POST",
      match: post("/v1/chat/completions"),
      isStream: streamFlag,
      handle: chatCompletion,
      streamError: chatStreamError,
    },
    {
      route: "openai.responses",
      method: "POST",
      match: post("/v1/responses"),
      isStream: streamFlag,
      handle: createResponse,
      streamError: responsesStreamError,
    },
    {
      route: "openai.embeddings",
      method: "POST",
      match: post("/v1/embeddings"),
      isStream: () => false,
      handle: embeddings,
    },
    {
      route: "openai.models",
      method: "GET",
      match: (p, headers) => (p === "/v1/models" && !isAnthropicCall(headers) ? { model: "" } : undefined),
      isStream: () => false,
      handle: models,
    },
  ],
};
