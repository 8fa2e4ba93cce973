// Runs translated client streams through the official SDKs' own parsers and accumulators,
// by handing each SDK a fetch that answers with the bytes under test (no network).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A byte stream delivering `bytes` one byte per read, the hardest split for a parser. */
function byteByByte(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= bytes.length) controller.close();
      else controller.enqueue(bytes.slice(i, ++i));
    },
  });
}

function answering(bytes: Uint8Array, contentType: string): typeof fetch {
  return async () =>
    new Response(byteByByte(bytes), { status: 200, headers: { "content-type": contentType } });
}

export interface OpenAIStreamResult {
  completion: OpenAI.Chat.Completions.ChatCompletion;
  argumentDeltas: { index: number; delta: string }[];
  usage: OpenAI.CompletionUsage | null | undefined;
}

export async function readWithOpenAI(bytes: Uint8Array): Promise<OpenAIStreamResult> {
  const client = new OpenAI({
    apiKey: "test-key",
    baseURL: "http://127.0.0.1:9/v1",
    fetch: answering(bytes, "text/event-stream"),
    maxRetries: 0,
  });
  const stream = client.chat.completions.stream({
    model: "client-model",
    messages: [{ role: "user", content: "hi" }],
  });
  const argumentDeltas: { index: number; delta: string }[] = [];
  stream.on("tool_calls.function.arguments.delta", (e) =>
    argumentDeltas.push({ index: e.index, delta: e.arguments_delta }),
  );
  let usage: OpenAI.CompletionUsage | null | undefined;
  stream.on("chunk", (chunk) => {
    if (chunk.usage) usage = chunk.usage;
  });
  const completion = await stream.finalChatCompletion();
  return { completion, argumentDeltas, usage };
}

/** Drains an OpenAI stream with the SDK's plain iterator (surfaces mid-stream errors). */
export async function drainWithOpenAI(bytes: Uint8Array): Promise<string> {
  const client = new OpenAI({
    apiKey: "test-key",
    baseURL: "http://127.0.0.1:9/v1",
    fetch: answering(bytes, "text/event-stream"),
    maxRetries: 0,
  });
  const stream = await client.chat.completions.create({
    model: "client-model",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  return text;
}

export interface AnthropicStreamResult {
  message: Anthropic.Message;
  inputJsonDeltas: string[];
  eventTypes: string[];
}

export async function readWithAnthropic(bytes: Uint8Array): Promise<AnthropicStreamResult> {
  const client = new Anthropic({
    apiKey: "test-key",
    baseURL: "http://127.0.0.1:9",
    fetch: answering(bytes, "text/event-stream"),
    maxRetries: 0,
  });
  const stream = client.messages.stream({
    model: "client-model",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
  });
  const inputJsonDeltas: string[] = [];
  const eventTypes: string[] = [];
  stream.on("inputJson", (delta) => inputJsonDeltas.push(delta));
  stream.on("streamEvent", (event) => eventTypes.push(event.type));
  const message = await stream.finalMessage();
  return { message, inputJsonDeltas, eventTypes };
}
