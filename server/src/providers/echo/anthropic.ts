// Echo answers in Anthropic's Messages format, including the full streaming event sequence.
import {
  type EchoResponse,
  NO_USAGE,
  SSE_HEADERS,
  echoUsage,
  jsonResponse,
  randomId,
  sseEvent,
  streamResponse,
} from "./encode.js";
import {
  type Conversation,
  conversation,
  echoReply,
  echoTokens,
  modelOf,
  streamPieces,
  textOf,
} from "./text.js";

const USER = new Set(["user"]);

export function anthropicError(status: number, message: string): EchoResponse {
  const body = { type: "error", error: { type: "invalid_request_error", message } };
  return jsonResponse(status, body, { ...NO_USAGE });
}

function read(body: Record<string, unknown>): Conversation | undefined {
  if (!Array.isArray(body.messages)) return undefined;
  return conversation(body.messages, USER, textOf(body.system));
}

export function echoCountTokens(body: Record<string, unknown>): EchoResponse {
  const convo = read(body);
  if (!convo) return anthropicError(400, "messages: Field required");
  // Counting tokens is free, so nothing is recorded as used.
  return jsonResponse(200, { input_tokens: echoTokens(convo.inputChars) }, { ...NO_USAGE });
}

export function echoMessages(body: Record<string, unknown>, stream: boolean): EchoResponse {
  const convo = read(body);
  if (!convo) return anthropicError(400, "messages: Field required");
  const model = modelOf(body);
  const text = echoReply(convo.lastUserText);
  const input = echoTokens(convo.inputChars);
  const output = echoTokens(text.length);
  const usage = echoUsage(input, output, model);
  const id = randomId("msg_");
  const message = (content: unknown[], stopReason: string | null, outputTokens: number) => ({
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: input,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: outputTokens,
      service_tier: "standard",
    },
  });

  if (!stream) return jsonResponse(200, message([{ type: "text", text }], "end_turn", output), usage);

  // message_start reports a provisional output count; message_delta carries the final one.
  const chunks = [
    sseEvent("message_start", { type: "message_start", message: message([], null, 1) }),
    sseEvent("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }),
    sseEvent("ping", { type: "ping" }),
  ];
  for (const piece of streamPieces(text)) {
    chunks.push(
      sseEvent("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: piece },
      }),
    );
  }
  chunks.push(
    sseEvent("content_block_stop", { type: "content_block_stop", index: 0 }),
    sseEvent("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: output },
    }),
    sseEvent("message_stop", { type: "message_stop" }),
  );
  return streamResponse(SSE_HEADERS, chunks, usage);
}
