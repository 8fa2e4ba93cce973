// Echo answers in OpenAI's formats: chat completions, Responses, embeddings.
import { isRecord } from "../../usage/taps/fields.js";
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
import { conversation, echoReply, echoTokens, modelOf, streamPieces, textOf } from "./text.js";
import { echoDimensions, echoVector } from "./vector.js";

const USER = new Set(["user"]);

export function openaiError(status: number, message: string): EchoResponse {
  const body = { error: { message, type: "invalid_request_error", param: null, code: null } };
  return jsonResponse(status, body, { ...NO_USAGE });
}

function chatUsage(input: number, output: number): Record<string, unknown> {
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function echoChat(body: Record<string, unknown>, stream: boolean): EchoResponse {
  if (!Array.isArray(body.messages)) return openaiError(400, "messages: an array of messages is required");
  const model = modelOf(body);
  const convo = conversation(body.messages, USER);
  const text = echoReply(convo.lastUserText);
  const input = echoTokens(convo.inputChars);
  const output = echoTokens(text.length);
  const usage = echoUsage(input, output, model);
  const id = randomId("chatcmpl-");
  const created = Math.floor(Date.now() / 1000);

  if (!stream) {
    return jsonResponse(
      200,
      {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: text, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
        usage: chatUsage(input, output),
        service_tier: "default",
        system_fingerprint: null,
      },
      usage,
    );
  }

  const options = isRecord(body.stream_options) ? body.stream_options : {};
  const includeUsage = options.include_usage === true;
  // With include_usage every chunk carries "usage": null until the final usage-only chunk.
  const chunk = (delta: Record<string, unknown>, finish: string | null): Uint8Array =>
    sseEvent(undefined, {
      id,
      object: "chat.completion.chunk",
      created,
      model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
  const chunks = [chunk({ role: "assistant", content: "", refusal: null }, null)];
  for (const piece of streamPieces(text)) chunks.push(chunk({ content: piece }, null));
  chunks.push(chunk({}, "stop"));
  if (includeUsage) {
    chunks.push(
      sseEvent(undefined, {
        id,
        object: "chat.completion.chunk",
        created,
        model,
        system_fingerprint: null,
        choices: [],
        usage: chatUsage(input, output),
      }),
    );
  }
  chunks.push(sseEvent(undefined, "[DONE]"));
  return streamResponse(SSE_HEADERS, chunks, usage);
}

/** The Responses API's input: a string, or a list of items (messages with text parts). */
function responsesConversation(body: Record<string, unknown>): { lastUserText: string; inputChars: number } {
  const instructions = typeof body.instructions === "string" ? body.instructions : "";
  if (typeof body.input === "string") {
    return { lastUserText: body.input, inputChars: instructions.length + body.input.length };
  }
  return conversation(Array.isArray(body.input) ? body.input : [], USER, instructions);
}

export function echoResponses(body: Record<string, unknown>, stream: boolean): EchoResponse {
  if (typeof body.input !== "string" && !Array.isArray(body.input)) {
    return openaiError(400, "input: a string or an array of input items is required");
  }
  const model = modelOf(body);
  const convo = responsesConversation(body);
  const text = echoReply(convo.lastUserText);
  const input = echoTokens(convo.inputChars);
  const output = echoTokens(text.length);
  const usage = echoUsage(input, output, model);
  const id = randomId("resp_");
  const itemId = randomId("msg_");
  const createdAt = Math.floor(Date.now() / 1000);

  const part = (t: string) => ({ type: "output_text", text: t, annotations: [], logprobs: [] });
  const item = (status: string, content: unknown[]) => ({
    id: itemId,
    type: "message",
    status,
    role: "assistant",
    content,
  });
  const response = (status: string, items: unknown[], withUsage: boolean) => ({
    id,
    object: "response",
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: typeof body.instructions === "string" ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === "number" ? body.max_output_tokens : null,
    metadata: isRecord(body.metadata) ? body.metadata : {},
    model,
    output: items,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: withUsage
      ? {
          input_tokens: input,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: output,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: input + output,
        }
      : null,
    user: null,
  });

  if (!stream)
    return jsonResponse(200, response("completed", [item("completed", [part(text)])], true), usage);

  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown>): Uint8Array =>
    sseEvent(type, { type, sequence_number: seq++, ...fields });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  const chunks = [
    ev("response.created", { response: response("in_progress", [], false) }),
    ev("response.in_progress", { response: response("in_progress", [], false) }),
    ev("response.output_item.added", { output_index: 0, item: item("in_progress", []) }),
    ev("response.content_part.added", { ...at, part: part("") }),
  ];
  for (const piece of streamPieces(text)) {
    chunks.push(ev("response.output_text.delta", { ...at, delta: piece, logprobs: [] }));
  }
  chunks.push(
    ev("response.output_text.done", { ...at, text, logprobs: [] }),
    ev("response.content_part.done", { ...at, part: part(text) }),
    ev("response.output_item.done", { output_index: 0, item: item("completed", [part(text)]) }),
    ev("response.completed", { response: response("completed", [item("completed", [part(text)])], true) }),
  );
  return streamResponse(SSE_HEADERS, chunks, usage);
}

export function echoEmbeddings(body: Record<string, unknown>): EchoResponse {
  const raw = body.input;
  // A single string or token array is one input; an array of those is several.
  const inputs: unknown[] =
    typeof raw === "string" || (Array.isArray(raw) && typeof raw[0] === "number")
      ? [raw]
      : Array.isArray(raw)
        ? raw
        : [];
  if (inputs.length === 0) return openaiError(400, "input: a string or an array of inputs is required");
  const dims = echoDimensions(body.dimensions);
  const base64 = body.encoding_format === "base64";
  const model = modelOf(body);
  let tokens = 0;
  const data = inputs.map((entry, index) => {
    const text = Array.isArray(entry) ? entry.join(" ") : textOf(entry);
    tokens += Array.isArray(entry) ? entry.length : echoTokens(text.length);
    const vector = echoVector(text, dims);
    const embedding = base64
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64")
      : Array.from(vector);
    return { object: "embedding", index, embedding };
  });
  return jsonResponse(
    200,
    { object: "list", data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    echoUsage(tokens, 0, model),
  );
}
