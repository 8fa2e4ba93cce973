// Echo answers in Ollama's /api/chat and /api/generate formats (streams are NDJSON), and its
// /api/embed and /api/embeddings formats.
import {
  type EchoResponse,
  NDJSON_HEADERS,
  NO_USAGE,
  echoUsage,
  jsonResponse,
  ndjsonLine,
  streamResponse,
} from "./encode.js";
import { type Conversation, conversation, echoReply, echoTokens, modelOf, streamPieces } from "./text.js";
import { echoDimensions, echoVector } from "./vector.js";

const USER = new Set(["user"]);
/** Nominal per-token timing, so clients computing tokens per second never divide by zero. */
const NS_PER_TOKEN = 1_000_000;

export function ollamaError(status: number, message: string): EchoResponse {
  return jsonResponse(status, { error: message }, { ...NO_USAGE });
}

function stats(input: number, output: number): Record<string, unknown> {
  return {
    total_duration: (input + output) * NS_PER_TOKEN,
    load_duration: 0,
    prompt_eval_count: input,
    prompt_eval_duration: input * NS_PER_TOKEN,
    eval_count: output,
    eval_duration: output * NS_PER_TOKEN,
  };
}

function respond(
  model: string,
  convo: Conversation,
  stream: boolean,
  content: (text: string) => Record<string, unknown>,
): EchoResponse {
  const text = echoReply(convo.lastUserText);
  const input = echoTokens(convo.inputChars);
  const output = echoTokens(text.length);
  const usage = echoUsage(input, output, model);
  const createdAt = new Date().toISOString();
  const final = (t: string) => ({
    model,
    created_at: createdAt,
    ...content(t),
    done_reason: "stop",
    done: true,
    ...stats(input, output),
  });
  if (!stream) return jsonResponse(200, final(text), usage);
  const lines = streamPieces(text).map((piece) =>
    ndjsonLine({ model, created_at: createdAt, ...content(piece), done: false }),
  );
  lines.push(ndjsonLine(final("")));
  return streamResponse(NDJSON_HEADERS, lines, usage);
}

export function echoOllamaChat(body: Record<string, unknown>, stream: boolean): EchoResponse {
  if (!Array.isArray(body.messages)) return ollamaError(400, "messages is required");
  const convo = conversation(body.messages, USER);
  return respond(modelOf(body), convo, stream, (t) => ({ message: { role: "assistant", content: t } }));
}

export function echoOllamaGenerate(body: Record<string, unknown>, stream: boolean): EchoResponse {
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  const system = typeof body.system === "string" ? body.system : "";
  const convo = { lastUserText: prompt, inputChars: prompt.length + system.length };
  return respond(modelOf(body), convo, stream, (t) => ({ response: t }));
}

/** /api/embed: one vector per input (a string or an array of strings), with prompt_eval_count. */
export function echoOllamaEmbed(body: Record<string, unknown>): EchoResponse {
  const raw = body.input;
  const inputs =
    typeof raw === "string"
      ? [raw]
      : Array.isArray(raw) && raw.every((s) => typeof s === "string")
        ? raw
        : null;
  if (!inputs || inputs.length === 0) return ollamaError(400, "input is required");
  const model = modelOf(body);
  const dims = echoDimensions(body.dimensions);
  let tokens = 0;
  const embeddings = inputs.map((text: string) => {
    tokens += echoTokens(text.length);
    return Array.from(echoVector(text, dims));
  });
  const answer = {
    model,
    embeddings,
    total_duration: tokens * NS_PER_TOKEN,
    load_duration: 0,
    prompt_eval_count: tokens,
  };
  return jsonResponse(200, answer, echoUsage(tokens, 0, model));
}

/** /api/embeddings (the older endpoint): `{embedding}` for one `prompt`, with no counts. */
export function echoOllamaEmbeddings(body: Record<string, unknown>): EchoResponse {
  if (typeof body.prompt !== "string") return ollamaError(400, "prompt is required");
  const values = Array.from(echoVector(body.prompt, echoDimensions(undefined)));
  return jsonResponse(
    200,
    { embedding: values },
    echoUsage(echoTokens(body.prompt.length), 0, modelOf(body)),
  );
}
