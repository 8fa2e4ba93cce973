// Echo answers in Gemini's generateContent format; streams are SSE (alt=sse) with CRLF framing.
import {
  type EchoResponse,
  NO_USAGE,
  echoUsage,
  jsonResponse,
  randomId,
  sseEvent,
  streamResponse,
} from "./encode.js";
import { conversation, echoReply, echoTokens, modelOf, streamPieces, textOf } from "./text.js";

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
