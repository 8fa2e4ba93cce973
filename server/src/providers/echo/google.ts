// Echo answers in Gemini's formats: generateContent (streams are SSE, alt=sse, with CRLF framing),
// embedContent, batchEmbedContents and countTokens.
import {
  type EchoResponse,
  NO_USAGE,
  echoUsage,
  jsonResponse,
  randomId,
  sseEvent,
  streamResponse,
} from "./encode.js";
import { isRecord } from "../../usage/taps/fields.js";
import { conversation, echoReply, echoTokens, modelOf, streamPieces, textOf } from "./text.js";
import { echoDimensions, echoVector } from "./vector.js";

const USER = new Set(["user"]);
const GOOGLE_SSE_HEADERS: readonly [string, string][] = [["content-type", "text/event-stream"]];

export function googleError(status: number, message: string): EchoResponse {
  const body = { error: { code: status, message, status: "INVALID_ARGUMENT" } };
  return jsonResponse(status, body, { ...NO_USAGE });
}

/** Gemini names the model in the URL path; a `model` the caller put in the body is reported, else echo-1. */
export function echoGenerate(body: Record<string, unknown>, stream: boolean): EchoResponse {
  if (!Array.isArray(body.contents)) return googleError(400, "contents is required");
  const convo = conversation(body.contents, USER, textOf(body.systemInstruction));
  const text = echoReply(convo.lastUserText);
  const input = echoTokens(convo.inputChars);
  const output = echoTokens(text.length);
  const model = modelOf(body);
  const usage = echoUsage(input, output, model);
  const responseId = randomId("");
  const metadata = {
    promptTokenCount: input,
    candidatesTokenCount: output,
    totalTokenCount: input + output,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: input }],
  };
  const reply = (t: string, done: boolean) => ({
    candidates: [
      {
        content: { parts: [{ text: t }], role: "model" },
        ...(done ? { finishReason: "STOP" } : {}),
        index: 0,
      },
    ],
    usageMetadata: done ? metadata : { promptTokenCount: input, totalTokenCount: input },
    modelVersion: model,
    responseId,
  });

  if (!stream) return jsonResponse(200, reply(text, true), usage);
  const pieces = streamPieces(text);
  const chunks = pieces.map((piece, i) => sseEvent(undefined, reply(piece, i === pieces.length - 1), "\r\n"));
  return streamResponse(GOOGLE_SSE_HEADERS, chunks, usage);
}

/** One vector for the text parts of a Content; null when it is not a Content. */
function embedding(content: unknown, dimensions: unknown): { values: number[]; tokens: number } | null {
  if (!isRecord(content) || !Array.isArray(content.parts)) return null;
  const text = textOf(content);
  return {
    values: Array.from(echoVector(text, echoDimensions(dimensions))),
    tokens: echoTokens(text.length),
  };
}

/** embedContent: `{embedding: {values}}`; Gemini reports no token counts, echo's record does. */
export function echoEmbedContent(body: Record<string, unknown>): EchoResponse {
  const e = embedding(body.content, body.outputDimensionality);
  if (!e) return googleError(400, "content is required");
  return jsonResponse(200, { embedding: { values: e.values } }, echoUsage(e.tokens, 0, modelOf(body)));
}

/** batchEmbedContents: `{embeddings: [{values}]}`, in the order of `requests`. */
export function echoBatchEmbed(body: Record<string, unknown>): EchoResponse {
  if (!Array.isArray(body.requests) || body.requests.length === 0)
    return googleError(400, "requests is required");
  const embeddings: { values: number[] }[] = [];
  let tokens = 0;
  for (const request of body.requests) {
    const e = isRecord(request) ? embedding(request.content, request.outputDimensionality) : null;
    if (!e) return googleError(400, "every request needs content");
    embeddings.push({ values: e.values });
    tokens += e.tokens;
  }
  return jsonResponse(200, { embeddings }, echoUsage(tokens, 0, modelOf(body)));
}

/** countTokens over `contents` (or a whole `generateContentRequest`); counting is free. */
export function echoGoogleCountTokens(body: Record<string, unknown>): EchoResponse {
  const request = isRecord(body.generateContentRequest) ? body.generateContentRequest : body;
  if (!Array.isArray(request.contents)) return googleError(400, "contents is required");
  const convo = conversation(request.contents, USER, textOf(request.systemInstruction));
  const total = echoTokens(convo.inputChars);
  const counted = { totalTokens: total, promptTokensDetails: [{ modality: "TEXT", tokenCount: total }] };
  return jsonResponse(200, counted, { ...NO_USAGE });
}
