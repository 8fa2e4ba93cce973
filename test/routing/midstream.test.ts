// A stream that fails after its first bytes reached the client is never retried or passed to the
// next target (the client already holds part of an answer): the upstream sees exactly one request,
// the fallback none, and the client gets a proper error event in its own format after the content
// it already received.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import {
  anthropicClient,
  attemptsOf,
  issueKey,
  MODELS,
  openaiClient,
  provider,
  requestIdOf,
  startRoutingGateway,
  waitForRecord,
  type IssuedKey,
  type RoutingGateway,
} from "./harness.js";

const ANSWER = answerText(DEFAULT_PIECES);

let primary: FakeUpstream;
let secondary: FakeUpstream;
let gw: RoutingGateway;
let key: IssuedKey;

beforeAll(async () => {
  [primary, secondary] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  gw = await startRoutingGateway({
    providers: {
      "p-openai": provider("openai", primary.url, [MODELS.openai]),
      "p-anthropic": provider("anthropic", primary.url, [MODELS.anthropic]),
      "s-openai": provider("openai", secondary.url, ["gpt-4o-mini"]),
    },
    // Retries and a fallback are both available: neither may be used once the stream has begun.
    routing: {
      strategy: "fallback",
      chain: ["p-openai", "p-anthropic", "s-openai"],
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
      breaker: { failureThreshold: 1000 },
    },
  });
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.dispose();
  await Promise.all([primary?.close(), secondary?.close()]);
});
beforeEach(() => {
  primary.reset({ settings: true });
  secondary.reset({ settings: true });
});

/** Exactly one upstream request was made, and nothing went to the fallback. */
function expectSingleUpstreamRequest(): void {
  expect(primary.requests).toHaveLength(1);
  expect(primary.requests[0]!.stream).toBe(true);
  expect(secondary.requests).toHaveLength(0);
}

async function expectOneAttemptRecord(
  requestId: string,
  providerId: string,
  errorClass: string,
): Promise<void> {
  const rec = await waitForRecord(gw.admin, requestId);
  expect(rec.errorClass).toBe(errorClass);
  expect(rec.fallback).toBe(false);
  expect(rec.providerId).toBe(providerId);
  expect(rec.attempts).toHaveLength(1);
  expect(attemptsOf(rec)[0]).toMatchObject({ provider: providerId, errorClass });
}

/** Reads an OpenAI SDK stream until it throws; returns the text received before the error. */
async function readOpenAIUntilError(model: string): Promise<{ text: string; error: unknown; id: string }> {
  const { data: stream, response } = await openaiClient(gw, key)
    .chat.completions.create({ model, messages: [{ role: "user", content: "Say hello" }], stream: true })
    .withResponse();
  expect(response.status).toBe(200);
  let text = "";
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  } catch (error) {
    return { text, error, id: requestIdOf(response.headers) };
  }
  throw new Error(`the stream ended without an error after ${JSON.stringify(text)}`);
}

/** Runs an Anthropic SDK MessageStream; returns the text received before its error event. */
async function readAnthropicUntilError(model: string): Promise<{ text: string; error: unknown; id: string }> {
  const stream = anthropicClient(gw, key).messages.stream({
    model,
    max_tokens: 256,
    messages: [{ role: "user", content: "Say hello" }],
  });
  let text = "";
  stream.on("text", (delta) => {
    text += delta;
  });
  const errored = new Promise<unknown>((resolve) => stream.on("error", resolve));
  const { response } = await stream.withResponse();
  expect(response.status).toBe(200);
  const outcome = await stream.finalMessage().then(
    () => undefined,
    (err: unknown) => err,
  );
  if (outcome === undefined)
    throw new Error(`the stream ended without an error after ${JSON.stringify(text)}`);
  const error = await errored;
  expect(error).toBe(outcome);
  return { text, error, id: requestIdOf(response.headers) };
}

/** Some, but not all, of the answer arrived before the error. */
function expectPartial(text: string): void {
  expect(text.length).toBeGreaterThan(0);
  expect(ANSWER.startsWith(text)).toBe(true);
  expect(text).not.toBe(ANSWER);
}

describe("openai SDK, same wire format", () => {
  it("connection reset mid-stream → the SDK stream throws after the content received", async () => {
    primary.resetMidStream({ afterChunks: 3, on: "openai.chat" });
    const { text, error, id } = await readOpenAIUntilError(MODELS.openai);
    expectPartial(text);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/mid-stream|upstream/i);
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-openai", "upstream_reset");
  });

  it("the upstream's own error event mid-stream → passed on, the SDK stream throws", async () => {
    primary.streamError({ afterChunks: 3, on: "openai.chat" });
    const { text, error, id } = await readOpenAIUntilError(MODELS.openai);
    expectPartial(text);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("The server had an error");
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-openai", "upstream_stream_error");
  });
});

describe("@anthropic-ai/sdk, same wire format", () => {
  it("connection reset mid-stream → the MessageStream emits an Anthropic error event", async () => {
    primary.resetMidStream({ afterChunks: 5, on: "anthropic.messages" });
    const { text, error, id } = await readAnthropicUntilError(MODELS.anthropic);
    expectPartial(text);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: "error",
      error: { type: "api_error" },
    });
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-anthropic", "upstream_reset");
  });

  it("the upstream's overloaded_error event mid-stream → passed on to the MessageStream", async () => {
    primary.streamError({ afterChunks: 5, on: "anthropic.messages" });
    const { text, error, id } = await readAnthropicUntilError(MODELS.anthropic);
    expectPartial(text);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: "error",
      error: { type: "overloaded_error" },
    });
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-anthropic", "upstream_stream_error");
  });
});

describe("translated streams", () => {
  it("openai SDK served by Anthropic, reset mid-stream → OpenAI-format error after the content", async () => {
    primary.resetMidStream({ afterChunks: 5, on: "anthropic.messages" });
    const { text, error, id } = await readOpenAIUntilError(MODELS.anthropic);
    expectPartial(text);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-anthropic", "upstream_reset");
  });

  it("openai SDK served by Anthropic, overloaded_error event mid-stream → OpenAI-format error", async () => {
    primary.streamError({ afterChunks: 5, on: "anthropic.messages" });
    const { text, error, id } = await readOpenAIUntilError(MODELS.anthropic);
    expectPartial(text);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/overloaded/i);
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-anthropic", "upstream_stream_error");
  });

  it("@anthropic-ai/sdk served by OpenAI, reset mid-stream → Anthropic error event after the content", async () => {
    primary.resetMidStream({ afterChunks: 3, on: "openai.chat" });
    const { text, error, id } = await readAnthropicUntilError(MODELS.openai);
    expectPartial(text);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error" });
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-openai", "upstream_reset");
  });

  it("@anthropic-ai/sdk served by OpenAI, the upstream's error chunk → Anthropic error event", async () => {
    primary.streamError({ afterChunks: 3, on: "openai.chat" });
    const { text, error, id } = await readAnthropicUntilError(MODELS.openai);
    expectPartial(text);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: "error",
      error: { message: expect.stringContaining("The server had an error") },
    });
    expectSingleUpstreamRequest();
    await expectOneAttemptRecord(id, "p-openai", "upstream_stream_error");
  });
});
