// The official @anthropic-ai/sdk against keygate, with the fake upstream behind it.
import Anthropic from "@anthropic-ai/sdk";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES, makeToolCalls } from "../fakes/content.js";
import type { RequestRecord } from "../../sdk/index.js";
import {
  costOf,
  fullTokens,
  issueKey,
  MODELS,
  PRICES,
  requestIdOf,
  startFacade,
  tokensOf,
  waitForRecord,
  type FacadeEnv,
  type IssuedKey,
  type Tokens,
} from "./harness.js";

let env: FacadeEnv;

beforeAll(async () => {
  env = await startFacade();
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.resetFake());

function anthropic(key: IssuedKey): Anthropic {
  return new Anthropic({ baseURL: env.gw.url, apiKey: key.secret, maxRetries: 0 });
}

const CACHED: Required<Tokens> = { input: 50, output: 20, cacheRead: 30, cacheWrite: 12 };

function expectRecord(rec: RequestRecord, key: IssuedKey, stream: boolean, tokens: Tokens): void {
  expect(rec.instanceId).toBe(key.instanceId);
  expect(rec.keyId).toBe(key.keyId);
  expect(rec.api).toBe("anthropic.messages");
  expect(rec.providerId).toBe("anthropic");
  expect(rec.requestedModel).toBe(MODELS.anthropic);
  expect(rec.servedModel).toBe(MODELS.anthropic);
  expect(rec.statusCode).toBe(200);
  expect(rec.errorClass).toBe("");
  expect(rec.stream).toBe(stream);
  expect(tokensOf(rec)).toEqual(fullTokens(tokens));
  expect(rec.costUsd).toBeDefined();
  expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.anthropic]!, tokens), 12);
  if (stream) {
    expect(rec.ttfbMs).toBeDefined();
    expect(rec.ttfbMs!).toBeLessThanOrEqual(rec.latencyMs);
  }
}

describe("@anthropic-ai/sdk → keygate → Anthropic-format upstream", () => {
  it("messages.create (non-streaming) records input, output and cache read/write tokens", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("anthropic", CACHED);
    const { data, response } = await anthropic(key)
      .messages.create({
        model: MODELS.anthropic,
        max_tokens: 256,
        messages: [{ role: "user", content: "Hello there" }],
      })
      .withResponse();

    const first = data.content[0];
    expect(first?.type).toBe("text");
    expect(first?.type === "text" ? first.text : "").toBe(answerText(DEFAULT_PIECES));
    expect(data.usage).toMatchObject({
      input_tokens: 50,
      output_tokens: 20,
      cache_read_input_tokens: 30,
      cache_creation_input_tokens: 12,
    });
    expect(response.headers.get("x-keygate-overhead-ms")).not.toBeNull();

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, false, CACHED);
  });

  it("messages.stream + finalMessage(): the assembled message and the record match the upstream", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("anthropic", CACHED);
    env.fake.streamChunks(6);
    const stream = anthropic(key).messages.stream({
      model: MODELS.anthropic,
      max_tokens: 256,
      messages: [{ role: "user", content: "Stream to me" }],
    });
    const { response } = await stream.withResponse();
    const message = await stream.finalMessage();

    const first = message.content[0];
    expect(first?.type === "text" ? first.text : undefined).toBe(answerText(6));
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({
      input_tokens: 50,
      output_tokens: 20,
      cache_read_input_tokens: 30,
      cache_creation_input_tokens: 12,
    });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, true, CACHED);
  });

  it("a streamed tool_use block arrives with its input intact", async () => {
    const key = await issueKey(env.admin);
    env.fake.toolCalls(1);
    env.fake.streamChunks(5);
    env.fake.setUsage("anthropic", { input: 80, output: 16 });
    const stream = anthropic(key).messages.stream({
      model: MODELS.anthropic,
      max_tokens: 256,
      tools: [
        {
          name: "get_weather",
          description: "Weather for a place",
          input_schema: { type: "object", properties: { location: { type: "string" } } },
        },
      ],
      messages: [{ role: "user", content: "What is the weather in Paris?" }],
    });
    const message = await stream.finalMessage();
    const block = message.content[0];
    expect(block?.type).toBe("tool_use");
    expect(block?.type === "tool_use" ? block.name : undefined).toBe("get_weather");
    expect(block?.type === "tool_use" ? block.input : undefined).toEqual(
      makeToolCalls("get_weather", 1)[0]?.input,
    );
    expect(message.stop_reason).toBe("tool_use");
  });

  it("messages.countTokens answers the upstream's count and is recorded as free", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("anthropic", { input: 91, output: 0 });
    const { data, response } = await anthropic(key)
      .messages.countTokens({
        model: MODELS.anthropic,
        messages: [{ role: "user", content: "How long am I?" }],
      })
      .withResponse();
    expect(data.input_tokens).toBe(91);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.api).toBe("anthropic.count_tokens");
    expect(rec.providerId).toBe("anthropic");
    expect(rec.statusCode).toBe(200);
    expect(rec.errorClass).toBe("");
    // Counting tokens consumes nothing: no tokens, and a known cost of 0 (not an unknown one).
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 0, output: 0 }));
    expect(rec.costUsd).toBe(0);
  });

  it("models.list() shows only the key's models, with the echo model labelled as a demo", async () => {
    const key = await issueKey(env.admin, { allowedModels: ["claude-*", MODELS.echo] });
    const page = await anthropic(key).models.list();
    const ids = page.data.map((m) => m.id).sort();
    expect(ids).toEqual([MODELS.anthropic, "claude-3-5-haiku-20241022", MODELS.echo].sort());
    expect(page.data.find((m) => m.id === MODELS.echo)?.display_name).toMatch(/demo/i);
    expect(page.data.find((m) => m.id === MODELS.anthropic)?.display_name).not.toMatch(/demo/i);
  });

  it("text deltas reach the client as the upstream sends them", async () => {
    const key = await issueKey(env.admin);
    env.fake.streamChunks(10, 150);
    const arrivals: number[] = [];
    const stream = anthropic(key).messages.stream({
      model: MODELS.anthropic,
      max_tokens: 64,
      messages: [{ role: "user", content: "slowly" }],
    });
    stream.on("text", () => arrivals.push(performance.now()));
    await stream.finalMessage();
    expect(arrivals).toHaveLength(10);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(900);
  });
});
