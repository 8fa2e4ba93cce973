// The Ollama native wire format (ollama/ollama docs/api.md).
// /api/chat and /api/generate stream NDJSON unless the body says `"stream": false`: objects with
// done:false, then a final done:true object with done_reason and the counters total_duration,
// load_duration, prompt_eval_count, prompt_eval_duration, eval_count, eval_duration (nanoseconds);
// /api/generate's final object also has `context`. /api/embed answers `{model, embeddings,
// total_duration, load_duration, prompt_eval_count}`, the older /api/embeddings `{embedding}` with no
// counts. /api/tags lists local models. Errors are
// `{ "error": "..." }`; a failure after streaming began is an `{ "error": ... }` line. No auth.
import { answerPieces, answerText } from "./content.js";
import { ev, jsonReply, retryAfterHeader, streamReply } from "./reply.js";
import type { ErrorOptions, FamilyDef, HandlerContext, Reply, StreamEvent } from "./types.js";

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

const MESSAGES: Record<number, string> = {
  400: "invalid request",
  401: "unauthorized",
  429: "too many requests",
  500: "llama runner process has terminated: exit status 2",
  503: "server busy, please try again.  maximum pending requests exceeded",
};

export function ollamaError(opts: ErrorOptions): Reply {
  const notFound =
    opts.status === 404 ? `model "${opts.model ?? "unknown"}" not found, try pulling it first` : undefined;
  const message = opts.message ?? notFound ?? MESSAGES[opts.status] ?? "error";
  return jsonReply(opts.status, { error: message }, { ...JSON_TYPE, ...retryAfterHeader(opts.retryAfter) });
}

/** Ollama itself has no auth; an expected credential models a Bearer-protecting proxy in front of it. */
function authenticate(headers: Record<string, string>, _q: unknown, expected: string | undefined) {
  if (expected === undefined) return undefined;
  return headers.authorization === `Bearer ${expected}` ? undefined : ollamaError({ status: 401 });
}

function stats(ctx: HandlerContext): Record<string, unknown> {
  const load = 2_000_000;
  const promptEval = ctx.usage.input * 1_000_000;
  const evalDuration = ctx.usage.output * 10_000_000;
  return {
    total_duration: load + promptEval + evalDuration,
    load_duration: load,
    prompt_eval_count: ctx.usage.input,
    prompt_eval_duration: promptEval,
    eval_count: ctx.usage.output,
    eval_duration: evalDuration,
  };
}

function createdAt(ctx: HandlerContext): string {
  return new Date(ctx.now * 1000).toISOString();
}

function requireModel(ctx: HandlerContext): Reply | undefined {
  return ctx.model === "" ? ollamaError({ status: 400, message: "model is required" }) : undefined;
}

function chat(ctx: HandlerContext): Reply {
  const invalid = requireModel(ctx);
  if (invalid) return invalid;
  const head = { model: ctx.model, created_at: createdAt(ctx) };
  const message = (content: string) => ({ role: "assistant", content });
  if (!ctx.stream) {
    return jsonReply(
      200,
      { ...head, message: message(answerText(ctx.pieces)), done_reason: "stop", done: true, ...stats(ctx) },
      JSON_TYPE,
    );
  }
  const lines: StreamEvent[] = answerPieces(ctx.pieces).map((piece) =>
    ev({ ...head, message: message(piece), done: false }),
  );
  lines.push(ev({ ...head, message: message(""), done_reason: "stop", done: true, ...stats(ctx) }));
  return streamReply("ndjson", lines, "application/x-ndjson");
}

function generate(ctx: HandlerContext): Reply {
  const invalid = requireModel(ctx);
  if (invalid) return invalid;
  const head = { model: ctx.model, created_at: createdAt(ctx) };
  const tail = { done: true, done_reason: "stop", context: [1, 2, 3], ...stats(ctx) };
  if (!ctx.stream) return jsonReply(200, { ...head, response: answerText(ctx.pieces), ...tail }, JSON_TYPE);
  const lines: StreamEvent[] = answerPieces(ctx.pieces).map((piece) =>
    ev({ ...head, response: piece, done: false }),
  );
  lines.push(ev({ ...head, response: "", ...tail }));
  return streamReply("ndjson", lines, "application/x-ndjson");
}

function streamError(): StreamEvent[] {
  return [ev({ error: "an error was encountered while running the model: unexpected EOF" })];
}

function tags(ctx: HandlerContext): Reply {
  return jsonReply(
    200,
    {
      models: ctx.models.map((name, i) => ({
        name,
        model: name,
        modified_at: "2025-01-01T00:00:00Z",
        size: 2019393189 + i,
        digest: `a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b7${i}`,
        details: {
          parent_model: "",
          format: "gguf",
          family: "llama",
          families: ["llama"],
          parameter_size: "3.2B",
          quantization_level: "Q4_K_M",
        },
      })),
    },
    JSON_TYPE,
  );
}

/** A small fixed vector per input; the fake's embeddings need only the right shape. */
function vector(seed: number): number[] {
  const values: number[] = [];
  for (let j = 0; j < 8; j++) values.push(Math.fround(Math.sin(seed + j / 10)));
  return values;
}

/** /api/embed: `input` is a string or an array of strings; one vector each, with prompt_eval_count. */
function embed(ctx: HandlerContext): Reply {
  const invalid = requireModel(ctx);
  if (invalid) return invalid;
  const input = ctx.body.input;
  const inputs = typeof input === "string" ? [input] : Array.isArray(input) ? input : [];
  return jsonReply(
    200,
    {
      model: ctx.model,
      embeddings: inputs.map((_, i) => vector(i)),
      total_duration: 14_143_917,
      load_duration: 1_019_500,
      prompt_eval_count: ctx.usage.input,
    },
    JSON_TYPE,
  );
}

/** /api/embeddings, the older endpoint: `{embedding}` for one `prompt`, and no counts. */
function embeddings(ctx: HandlerContext): Reply {
  const invalid = requireModel(ctx);
  if (invalid) return invalid;
  return jsonReply(200, { embedding: vector(0) }, JSON_TYPE);
}

export const OLLAMA_MODELS = ["llama3.2:latest", "qwen2.5:0.5b"];

const at = (path: string) => (p: string) => (p === path ? { model: "" } : undefined);
// `stream` defaults to true in Ollama.
const streamsByDefault = (b: Record<string, unknown>): boolean => b.stream !== false;

export const ollama: FamilyDef = {
  family: "ollama",
  authenticate,
  error: ollamaError,
  routes: [
    {
      route: "ollama.chat",
      method: "POST",
      match: at("/api/chat"),
      isStream: streamsByDefault,
      handle: chat,
      streamError,
    },
    {
      route: "ollama.generate",
      method: "POST",
      match: at("/api/generate"),
      isStream: streamsByDefault,
      handle: generate,
      streamError,
    },
    { route: "ollama.embed", method: "POST", match: at("/api/embed"), isStream: () => false, handle: embed },
    {
      route: "ollama.embeddings",
      method: "POST",
      match: at("/api/embeddings"),
      isStream: () => false,
      handle: embeddings,
    },
    { route: "ollama.tags", method: "GET", match: at("/api/tags"), isStream: () => false, handle: tags },
    {
      route: "ollama.version",
      method: "GET",
      match: at("/api/version"),
      isStream: () => false,
      handle: () => jsonReply(200, { version: "0.6.2" }, JSON_TYPE),
    },
  ],
};
