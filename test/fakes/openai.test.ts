// The official openai SDK, pointed straight at the fake, must accept everything it answers.
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "./content.js";
import { startFakeUpstream } from "./server.js";
import type { FakeUpstream } from "./server.js";
import { readSse } from "./sse-reader.js";

let fake: FakeUpstream;
let client: OpenAI;
const KEY = "sk-real-upstream-key";

beforeAll(async () => {
  fake = await startFakeUpstream();
  client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset({ settings: true }));

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Say hello" }];
const weatherTool: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { location: { type: "string" } } },
  },
};

describe("chat completions", () => {
  it("answers a non-streaming request with a chat.completion and the configured usage", async () => {
    fake.setUsage("openai", { input: 31, output: 7, cacheRead: 11 });
    const res = await client.chat.completions.create({ model: "gpt-4o", messages });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("gpt-4o");
    expect(res.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage).toMatchObject({
      prompt_tokens: 31,
      completion_tokens: 7,
      total_tokens: 38,
      prompt_tokens_details: { cached_tokens: 11 },
    });
    const seen = fake.requests[0];
    expect(seen?.route).toBe("openai.chat");
    expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen?.body).toMatchObject({ model: "gpt-4o", messages });
  });

  it("streams role, content pieces, finish, the usage chunk and [DONE] with include_usage", async () => {
    fake.setUsage("openai", { input: 12, output: 4 });
    fake.streamChunks(3);
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(answerText(3));
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(3);
    const finish = chunks[chunks.length - 2];
    expect(finish?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("frames the stream as data-only SSE ending in data: [DONE], with no usage key unless asked", async () => {
    const res = await fetch(`${fake.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages, stream: true }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const body = await res.text();
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = readSse(body);
    expect(events.every((e) => e.event === undefined)).toBe(true);
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(parsed.every((c) => !("usage" in c) && c.object === "chat.completion.chunk")).toBe(true);
  });

  it("answers with a tool call when tools are offered and the user asks about the weather", async () => {
    const res = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "What's the weather in Paris?" }],
      tools: [weatherTool],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(res.choices[0]?.message.content).toBeNull();
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ location: "Paris" });
  });

  it("streams parallel tool calls as index/id/name deltas then argument fragments", async () => {
    fake.toolCalls(2);
    const stream = client.chat.completions.stream({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Weather in Paris and Tokyo?" }],
      tools: [weatherTool],
      stream_options: { include_usage: true },
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    stream.on("chunk", (c) => deltas.push(...(c.choices[0]?.delta.tool_calls ?? [])));
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((c) => c.type === "function" && JSON.parse(c.function.arguments))).toEqual([
      { location: "Paris" },
      { location: "Tokyo" },
    ]);
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(final.usage?.completion_tokens).toBe(20);
    const heads = deltas.filter((d) => d.id !== undefined);
    expect(heads.map((d) => [d.index, d.function?.name, d.function?.arguments])).toEqual([
      [0, "get_weather", ""],
      [1, "get_weather", ""],
    ]);
    expect(deltas.filter((d) => d.id === undefined && d.index === 1).length).toBeGreaterThan(1);
  });
});

describe("responses", () => {
  it("answers a non-streaming request with a completed response and usage", async () => {
    fake.setUsage("openai", { input: 9, output: 3, cacheRead: 2 });
    const res = await client.responses.create({ model: "gpt-4o", input: "Say hello" });
    expect(res.object).toBe("response");
    expect(res.status).toBe("completed");
    expect(res.output_text).toBe(answerText(DEFAULT_PIECES));
    expect(res.usage).toMatchObject({
      input_tokens: 9,
      output_tokens: 3,
      total_tokens: 12,
      input_tokens_details: { cached_tokens: 2 },
    });
  });

  it("streams the documented event sequence with sequence numbers and usage on response.completed", async () => {
    fake.setUsage("openai", { input: 5, output: 6 });
    fake.streamChunks(2);
    const stream = client.responses.stream({ model: "gpt-4o", input: "Say hello" });
    const types: string[] = [];
    const seqs: number[] = [];
    stream.on("event", (e) => {
      types.push(e.type);
      seqs.push(e.sequence_number);
    });
    const final = await stream.finalResponse();
    expect(types).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(seqs).toEqual(types.map((_, i) => i));
    expect(final.output_text).toBe(answerText(2));
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 6, total_tokens: 11 });
  });

  it("names every event in an event: line that matches its data type", async () => {
    const res = await fetch(`${fake.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", input: "hi", stream: true }),
    });
    const events = readSse(await res.text());
    expect(events.length).toBeGreaterThan(5);
    for (const e of events) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.event);
  });
});

describe("embeddings and models", () => {
  it("serves base64 embeddings (the SDK default) that decode to the same floats as float output", async () => {
    fake.setUsage("openai", { input: 8, output: 0 });
    const decoded = await client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
    const floats = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["a", "b"],
      encoding_format: "float",
    });
    expect(fake.requests[0]?.body).toMatchObject({ encoding_format: "base64" });
    expect(decoded.data).toHaveLength(2);
    expect(decoded.data.map((d) => d.embedding)).toEqual(floats.data.map((d) => d.embedding));
    expect(decoded.data[0]?.embedding).toHaveLength(8);
    expect(decoded.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
  });

  it("lists models", async () => {
    fake.setModels("openai", ["gpt-a", "gpt-b"]);
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["gpt-a", "gpt-b"]);
  });
});

describe("errors", () => {
  it("rejects any other credential with 401 invalid_api_key, never echoing the key", async () => {
    fake.expectCredential("openai", "sk-the-only-good-key");
    const err = await client.chat.completions.create({ model: "gpt-4o", messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as APIError).code).toBe("invalid_api_key");
    expect(JSON.stringify((err as APIError).error)).not.toContain(KEY);
  });

  it("surfaces a 429 as RateLimitError with Retry-After and rate_limit_exceeded", async () => {
    fake.fail({ status: 429, retryAfter: 17, on: "openai.chat" });
    const err = await client.chat.completions.create({ model: "gpt-4o", messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as APIError).headers?.get("retry-after")).toBe("17");
    expect((err as APIError).code).toBe("rate_limit_exceeded");
    expect((err as APIError).type).toBe("requests");
  });

  it("answers 404 model_not_found and 500 server_error in OpenAI's shape", async () => {
    fake.fail({ status: 404 });
    fake.fail({ status: 500 });
    const notFound = await client.chat.completions
      .create({ model: "gpt-9", messages })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as APIError).code).toBe("model_not_found");
    expect((notFound as APIError).message).toContain("gpt-9");
    const server = await client.responses.create({ model: "gpt-4o", input: "x" }).catch((e: unknown) => e);
    expect(server).toBeInstanceOf(OpenAI.InternalServerError);
    expect((server as APIError).type).toBe("server_error");
  });

  it("lets the SDK retry through a fault queued for two requests", async () => {
    const retrying = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 2 });
    fake.fail({ status: 503, retryAfter: 0, times: 2 });
    const res = await retrying.chat.completions.create({ model: "gpt-4o", messages });
    expect(res.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(fake.requests).toHaveLength(3);
  });
});
