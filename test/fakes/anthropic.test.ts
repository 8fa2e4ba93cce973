// The official @anthropic-ai/sdk, pointed straight at the fake, must accept everything it answers.
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "./content.js";
import { startFakeUpstream } from "./server.js";
import type { FakeUpstream } from "./server.js";
import { readSse } from "./sse-reader.js";

let fake: FakeUpstream;
let client: Anthropic;
const KEY = "sk-ant-real-upstream-key";

beforeAll(async () => {
  fake = await startFakeUpstream();
  client = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset({ settings: true }));

const base = {
  model: "claude-sonnet-4-20250514",
  max_tokens: 256,
  messages: [{ role: "user" as const, content: "Say hello" }],
};
const weatherTool: Anthropic.Tool = {
  name: "get_weather",
  input_schema: { type: "object", properties: { location: { type: "string" } } },
};

describe("messages", () => {
  it("answers a non-streaming request with a message and the configured usage", async () => {
    fake.setUsage("anthropic", { input: 40, output: 9, cacheRead: 100, cacheWrite: 25 });
    const msg = await client.messages.create(base);
    expect(msg.type).toBe("message");
    expect(msg.model).toBe(base.model);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.content).toEqual([{ type: "text", text: answerText(DEFAULT_PIECES) }]);
    expect(msg.usage).toMatchObject({
      input_tokens: 40,
      output_tokens: 9,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 25,
    });
    const seen = fake.requests[0];
    expect(seen?.route).toBe("anthropic.messages");
    expect(seen?.headers.authorization ?? seen?.headers["x-api-key"]).toMatch(
      new RegExp(`^(Bearer )?${KEY}$`),
    );
    expect(seen?.headers["anthropic-version"]).toBeTruthy();
  });

  it("streams message_start → content_block_start → ping → deltas → stop → message_delta → message_stop", async () => {
    fake.setUsage("anthropic", { input: 21, output: 13, cacheRead: 4, cacheWrite: 2 });
    fake.streamChunks(3);
    const stream = client.messages.stream(base);
    const types: string[] = [];
    stream.on("streamEvent", (e) => types.push(e.type));
    const final = await stream.finalMessage();
    // The SDK drops ping events; the raw-stream test below sees them.
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: "text", text: answerText(3) });
    expect(final.usage).toMatchObject({
      input_tokens: 21,
      output_tokens: 13,
      cache_read_input_tokens: 4,
      cache_creation_input_tokens: 2,
    });
  });

  it("frames named events in order, with input and cache counts on message_start with output_tokens 1, and the output on message_delta", async () => {
    fake.setUsage("anthropic", { input: 21, output: 13, cacheRead: 4, cacheWrite: 2 });
    const res = await rawMessages({ ...base, stream: true });
    const events = readSse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      ...Array<string>(DEFAULT_PIECES).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.event);
    const start = JSON.parse(events[0]?.data ?? "{}") as { message: { usage: Record<string, number> } };
    expect(start.message.usage).toMatchObject({
      input_tokens: 21,
      cache_creation_input_tokens: 2,
      cache_read_input_tokens: 4,
      output_tokens: 1,
    });
    const delta = events.find((e) => e.event === "message_delta");
    expect(JSON.parse(delta?.data ?? "{}")).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 13 },
    });
  });

  it("streams parallel tool_use blocks as input_json_delta fragments", async () => {
    fake.toolCalls(2);
    const stream = client.messages.stream({ ...base, tools: [weatherTool] });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const uses = final.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses.map((u) => [u.name, u.input])).toEqual([
      ["get_weather", { location: "Paris" }],
      ["get_weather", { location: "Tokyo" }],
    ]);
  });

  it("answers a non-streaming weather question with a tool_use block", async () => {
    const msg = await client.messages.create({
      ...base,
      messages: [{ role: "user", content: [{ type: "text", text: "What is the weather in Paris?" }] }],
      tools: [weatherTool],
    });
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.content[0]).toMatchObject({
      type: "tool_use",
      name: "get_weather",
      input: { location: "Paris" },
    });
  });

  it("counts tokens and lists models", async () => {
    fake.setUsage("anthropic", { input: 77, output: 0 });
    const count = await client.messages.countTokens({ model: base.model, messages: base.messages });
    expect(count.input_tokens).toBe(77);
    fake.setModels("anthropic", ["claude-a", "claude-b"]);
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["claude-a", "claude-b"]);
    expect(fake.requests.map((r) => r.route)).toEqual(["anthropic.count_tokens", "anthropic.models"]);
  });
});

function rawMessages(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.url}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": KEY,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe("errors", () => {
  it("rejects any other key with 401 authentication_error, a request_id and no echo of the key", async () => {
    fake.expectCredential("anthropic", "sk-ant-the-only-good-key");
    const err = await client.messages.create(base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    const body = (err as APIError).error as {
      type: string;
      error: { type: string };
      request_id: string;
    };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("authentication_error");
    expect(body.request_id).toMatch(/^req_/);
    expect((err as APIError).requestID).toBe(body.request_id);
    expect(JSON.stringify(body)).not.toContain(KEY);
  });

  it("surfaces 429 as RateLimitError with retry-after, and 529 as OverloadedError", async () => {
    fake.fail({ status: 429, retryAfter: 30, on: "anthropic" });
    fake.fail({ status: 529, on: "anthropic.messages" });
    const limited = await client.messages.create(base).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as APIError).headers?.get("retry-after")).toBe("30");
    expect((limited as APIError).type).toBe("rate_limit_error");
    const overloaded = await client.messages.create(base).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.OverloadedError);
    expect((overloaded as APIError).type).toBe("overloaded_error");
  });

  it("requires anthropic-version and max_tokens like the real API", async () => {
    const noVersion = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify(base),
    });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: "anthropic-version: header is required" },
    });
    const noMax = await rawMessages({ model: base.model, messages: base.messages });
    expect(noMax.status).toBe(400);
    expect(await noMax.json()).toMatchObject({ error: { message: "max_tokens: Field required" } });
  });

  it("ends a stream with event: error overloaded_error, which the SDK raises", async () => {
    fake.streamError({ afterChunks: 3, on: "anthropic.messages" });
    fake.streamError({ afterChunks: 3, on: "anthropic.messages" });
    const err = await client.messages
      .stream(base)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as APIError).type).toBe("overloaded_error");

    const events = readSse(await (await rawMessages({ ...base, stream: true })).text());
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "ping", "error"]);
    expect(JSON.parse(events[3]?.data ?? "{}")).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
  });
});
