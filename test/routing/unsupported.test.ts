// A request feature the target provider's wire format cannot express is refused with a clear 400
// in the client's own error format, naming the feature, before anything is sent upstream.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import {
  anthropicClient,
  issueKey,
  MODELS,
  openaiClient,
  provider,
  startRoutingGateway,
  waitForRecord,
  type IssuedKey,
  type RoutingGateway,
} from "./harness.js";

let fake: FakeUpstream;
let gw: RoutingGateway;
let key: IssuedKey;

beforeAll(async () => {
  fake = await startFakeUpstream();
  gw = await startRoutingGateway({
    providers: {
      anthropic: provider("anthropic", fake.url, [MODELS.anthropic]),
      openai: provider("openai", fake.url, [MODELS.openai]),
      google: provider("google", fake.url, [MODELS.gemini]),
    },
  });
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.dispose();
  await fake?.close();
});
beforeEach(() => fake.reset({ settings: true }));

/** The rejection the promise ends with; fails the test if it resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("the request succeeded but should have been refused");
}

async function expectOpenAIRefusal(p: Promise<unknown>, feature: string): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  const e = err as InstanceType<typeof OpenAI.BadRequestError>;
  expect(e.status).toBe(400);
  expect(e.type).toBe("invalid_request_error");
  expect(e.error).toMatchObject({ message: expect.stringContaining(feature) });
  expect(e.message).toContain(feature);
  expect(fake.requests).toHaveLength(0);
  const id = e.headers?.get("x-request-id");
  if (!id) throw new Error("the refusal carries no x-request-id");
  const rec = await waitForRecord(gw.admin, id);
  expect(rec.statusCode).toBe(400);
  expect(rec.errorClass).toBe("translation_unsupported");
}

describe("features the target cannot express", () => {
  it("openai SDK, n: 2 to an Anthropic provider → 400 invalid_request_error naming n > 1", async () => {
    await expectOpenAIRefusal(
      openaiClient(gw, key).chat.completions.create({
        model: MODELS.anthropic,
        n: 2,
        messages: [{ role: "user", content: "Say hello" }],
      }),
      "n > 1",
    );
  });

  it("openai SDK, logprobs to an Anthropic provider → 400 naming logprobs", async () => {
    await expectOpenAIRefusal(
      openaiClient(gw, key).chat.completions.create({
        model: MODELS.anthropic,
        logprobs: true,
        messages: [{ role: "user", content: "Say hello" }],
      }),
      "logprobs",
    );
  });

  it("openai SDK, parallel_tool_calls: false to a Gemini provider → 400 naming it", async () => {
    await expectOpenAIRefusal(
      openaiClient(gw, key).chat.completions.create({
        model: MODELS.gemini,
        parallel_tool_calls: false,
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
        messages: [{ role: "user", content: "Weather?" }],
      }),
      "parallel_tool_calls",
    );
  });

  it("@anthropic-ai/sdk, extended thinking to an OpenAI provider → Anthropic-shaped 400 naming thinking", async () => {
    const err = await rejection(
      anthropicClient(gw, key).messages.create({
        model: MODELS.openai,
        max_tokens: 2048,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [{ role: "user", content: "Say hello" }],
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const e = err as InstanceType<typeof Anthropic.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.error).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("thinking") },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("the same request to a provider of the client's own family is forwarded untouched", async () => {
    const data = await openaiClient(gw, key).chat.completions.create({
      model: MODELS.openai,
      n: 2,
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(data.choices.length).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body).toMatchObject({ n: 2 });
  });
});
