// The official openai SDK against keygate, with the fake upstream behind it: what the agent sees,
// what the upstream received, and the usage record the gateway wrote.
import OpenAI from "openai";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES, makeToolCalls } from "../fakes/content.js";
import type { RequestRecord } from "../../sdk/index.js";
import { readStreamWithoutUsage } from "../helpers/openai-stream.js";
import {
  costOf,
  fullTokens,
  issueKey,
  lastRequest,
  MODELS,
  PRICES,
  requestIdOf,
  startFacade,
  tokensOf,
  usageTotals,
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

function openai(key: IssuedKey): OpenAI {
  return new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
}

function expectKeygateHeaders(headers: Headers): void {
  expect(headers.get("x-request-id")).toMatch(/\S/);
  const overhead = Number(headers.get("x-keygate-overhead-ms"));
  expect(headers.get("x-keygate-overhead-ms")).not.toBeNull();
  expect(Number.isFinite(overhead) && overhead >= 0).toBe(true);
}

/** The record carries exactly the fake's counts, the models, the provider and a cost from the config. */
function expectRecord(
  rec: RequestRecord,
  key: IssuedKey,
  want: { api: string; requested: string; served: string; stream: boolean; tokens: Tokens },
): void {
  expect(rec.instanceId).toBe(key.instanceId);
  expect(rec.keyId).toBe(key.keyId);
  expect(rec.api).toBe(want.api);
  expect(rec.providerId).toBe("openai");
  expect(rec.requestedModel).toBe(want.requested);
  expect(rec.servedModel).toBe(want.served);
  expect(rec.statusCode).toBe(200);
  expect(rec.errorClass).toBe("");
  expect(rec.stream).toBe(want.stream);
  expect(tokensOf(rec)).toEqual(fullTokens(want.tokens));
  const price = PRICES[want.served];
  if (!price) throw new Error(`no configured price for ${want.served}`);
  expect(rec.costUsd).toBeDefined();
  expect(rec.costUsd).toBeCloseTo(costOf(price, want.tokens), 12);
  if (want.stream) {
    expect(rec.ttfbMs).toBeDefined();
    expect(rec.ttfbMs!).toBeGreaterThan(0);
    expect(rec.ttfbMs!).toBeLessThanOrEqual(rec.latencyMs);
  }
}

describe("openai SDK → keygate → OpenAI-format upstream", () => {
  it("chat completion (non-streaming): answer, keygate headers and an exact usage record", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 37, output: 11 });
    const { data, response } = await openai(key)
      .chat.completions.create({ model: MODELS.openai, messages: [{ role: "user", content: "Say hello" }] })
      .withResponse();

    expect(data.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(data.usage?.prompt_tokens).toBe(37);
    expect(data.usage?.completion_tokens).toBe(11);
    expectKeygateHeaders(response.headers);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.chat",
      requested: MODELS.openai,
      served: MODELS.openai,
      stream: false,
      tokens: { input: 37, output: 11 },
    });
    expect(rec.attempts).toHaveLength(1);
    expect(rec.fallback).toBe(false);
  });

  it("streaming chat with tools: every tool call arrives intact", async () => {
    const key = await issueKey(env.admin);
    env.fake.toolCalls(2);
    env.fake.streamChunks(4);
    env.fake.setUsage("openai", { input: 55, output: 24 });
    const { data: stream, response } = await openai(key)
      .chat.completions.create({
        model: MODELS.openai,
        stream: true,
        messages: [{ role: "user", content: "What is the weather in Paris and Tokyo?" }],
        tools: [
          {
            type: "function",
            function: {
              name: "get_weather",
              parameters: { type: "object", properties: { location: { type: "string" } } },
            },
          },
        ],
      })
      .withResponse();

    const calls: { id: string; name: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const tc of choice.delta.tool_calls ?? []) {
        const slot = (calls[tc.index] ??= { id: "", name: "", args: "" });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name += tc.function.name;
        if (tc.function?.arguments) slot.args += tc.function.arguments;
      }
    }

    const expected = makeToolCalls("get_weather", 2);
    expect(finish).toBe("tool_calls");
    expect(calls).toHaveLength(2);
    calls.forEach((c, i) => {
      expect(c.id).toMatch(/\S/);
      expect(c.name).toBe("get_weather");
      expect(JSON.parse(c.args)).toEqual(expected[i]?.input);
    });
    expectKeygateHeaders(response.headers);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.chat",
      requested: MODELS.openai,
      served: MODELS.openai,
      stream: true,
      tokens: { input: 55, output: 24 },
    });
  });

  it("streaming without stream_options: no usage chunk reaches the client, yet the record is exact", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 123, output: 45 });
    const { data: stream, response } = await openai(key)
      .chat.completions.create({
        model: MODELS.openai,
        stream: true,
        messages: [{ role: "user", content: "Stream me something" }],
      })
      .withResponse();

    // The client did not ask for usage: no chunk may carry it, and none may be the usage-only chunk.
    const { text, chunks } = await readStreamWithoutUsage(stream);
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(answerText(DEFAULT_PIECES));

    // keygate asked the upstream for usage on the client's behalf.
    const up = lastRequest(env.fake);
    expect(up.route).toBe("openai.chat");
    expect(up.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.chat",
      requested: MODELS.openai,
      served: MODELS.openai,
      stream: true,
      tokens: { input: 123, output: 45 },
    });
  });

  it("streaming with include_usage: the client receives the usage chunk itself", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 7, output: 3 });
    const { data: stream, response } = await openai(key)
      .chat.completions.create({
        model: MODELS.openai,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "Count for me" }],
      })
      .withResponse();

    const usageChunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    let text = "";
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe(answerText(DEFAULT_PIECES));
    expect(usageChunks).toHaveLength(1);
    expect(usageChunks[0]?.choices).toEqual([]);
    expect(usageChunks[0]?.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.chat",
      requested: MODELS.openai,
      served: MODELS.openai,
      stream: true,
      tokens: { input: 7, output: 3 },
    });
  });

  it("responses API, non-streaming", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 21, output: 9 });
    const { data, response } = await openai(key)
      .responses.create({ model: MODELS.openai, input: "Tell me something" })
      .withResponse();

    expect(data.output_text).toBe(answerText(DEFAULT_PIECES));
    expect(data.usage).toMatchObject({ input_tokens: 21, output_tokens: 9 });
    expectKeygateHeaders(response.headers);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.responses",
      requested: MODELS.openai,
      served: MODELS.openai,
      stream: false,
      tokens: { input: 21, output: 9 },
    });
  });

  it("responses API, streaming", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 31, output: 13 });
    const { data: stream, response } = await openai(key)
      .responses.create({ model: MODELS.openai, input: "Stream a response", stream: true })
      .withResponse();

    let text = "";
    let completedUsage: OpenAI.Responses.ResponseUsage | null | undefined;
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completedUsage = event.response.usage;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(text).toBe(answerText(DEFAULT_PIECES));
    expect(completedUsage).toMatchObject({ input_tokens: 31, output_tokens: 13 });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.responses",
      requested: MODELS.openai,
      served: MODELS.openai,
      stream: true,
      tokens: { input: 31, output: 13 },
    });
  });

  it("embeddings", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 17, output: 0 });
    const { data, response } = await openai(key)
      .embeddings.create({ model: MODELS.embedding, input: ["first text", "second text"] })
      .withResponse();

    expect(data.data).toHaveLength(2);
    for (const [i, e] of data.data.entries()) {
      expect(e.index).toBe(i);
      expect(e.embedding).toHaveLength(8);
      expect(e.embedding.every((v) => typeof v === "number" && Number.isFinite(v))).toBe(true);
    }
    expect(data.usage.prompt_tokens).toBe(17);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.embeddings",
      requested: MODELS.embedding,
      served: MODELS.embedding,
      stream: false,
      tokens: { input: 17, output: 0 },
    });
  });

  it("models.list() shows only the models the key may use, with the demo echo model labelled", async () => {
    const key = await issueKey(env.admin, { allowedModels: ["gpt-4o*", MODELS.echo] });
    const page = await openai(key).models.list();
    const models = page.data;
    const ids = models.map((m) => m.id).sort();
    expect(ids).toEqual([MODELS.openai, MODELS.openaiMini, MODELS.echo].sort());
    for (const m of models) expect(m.object).toBe("model");
    const echo = models.find((m) => m.id === MODELS.echo);
    expect(echo?.owned_by).toMatch(/demo/i);
    const real = models.find((m) => m.id === MODELS.openai);
    expect(real?.owned_by).not.toMatch(/demo/i);
  });

  it("a model without a known price is recorded with an unknown cost, never 0", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 40, output: 10 });
    const { response } = await openai(key)
      .chat.completions.create({ model: MODELS.unpriced, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.statusCode).toBe(200);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 40, output: 10 }));
    expect(rec.costUsd).toBeUndefined();
  });

  it("an alias is renamed before forwarding; the record keeps both names and prices the served model", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 1000, output: 500 });
    const { data, response } = await openai(key)
      .chat.completions.create({ model: MODELS.alias, messages: [{ role: "user", content: "Quick one" }] })
      .withResponse();

    expect(data.model).toBe(MODELS.openaiMini);
    expect(lastRequest(env.fake).body).toMatchObject({ model: MODELS.openaiMini });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expectRecord(rec, key, {
      api: "openai.chat",
      requested: MODELS.alias,
      served: MODELS.openaiMini,
      stream: false,
      tokens: { input: 1000, output: 500 },
    });
  });

  it("a Claude model asked through the openai SDK is served by the Anthropic upstream, usage intact", async () => {
    const key = await issueKey(env.admin);
    const usage = { input: 48, output: 16, cacheRead: 32, cacheWrite: 8 };
    env.fake.setUsage("anthropic", usage);
    const { data, response } = await openai(key)
      .chat.completions.create({ model: MODELS.anthropic, messages: [{ role: "user", content: "Bonjour" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(lastRequest(env.fake).route).toBe("anthropic.messages");
    expect(lastRequest(env.fake).headers["x-api-key"]).toBe(env.creds.anthropic);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.api).toBe("openai.chat");
    expect(rec.providerId).toBe("anthropic");
    expect(tokensOf(rec)).toEqual(fullTokens(usage));
    expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.anthropic]!, usage), 12);
  });

  it("concurrent streams each get their own exact record", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 3, output: 4 });
    env.fake.streamChunks(3, 20);
    const client = openai(key);
    const ids = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const { data: stream, response } = await client.chat.completions
          .create({ model: MODELS.openai, stream: true, messages: [{ role: "user", content: `n${i}` }] })
          .withResponse();
        let text = "";
        for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
        expect(text).toBe(answerText(3));
        return requestIdOf(response.headers);
      }),
    );
    expect(new Set(ids).size).toBe(8);
    for (const id of ids) {
      const rec = await waitForRecord(env.admin, key.instanceId, id);
      expect(tokensOf(rec)).toEqual(fullTokens({ input: 3, output: 4 }));
    }
    const totals = await usageTotals(env.admin, key.instanceId);
    expect(totals?.requests).toBe(8n);
    expect(totals?.inputTokens).toBe(24n);
    expect(totals?.outputTokens).toBe(32n);
  });

  it("chunks reach the client as the upstream sends them, not all at the end", async () => {
    const key = await issueKey(env.admin);
    // Ten pieces 150 ms apart: a relay that buffered would deliver them all at once.
    env.fake.streamChunks(10, 150);
    const stream = await openai(key).chat.completions.create({
      model: MODELS.openai,
      stream: true,
      messages: [{ role: "user", content: "slowly" }],
    });
    const arrivals: number[] = [];
    for await (const c of stream) if (c.choices[0]?.delta.content) arrivals.push(performance.now());
    expect(arrivals).toHaveLength(10);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(900);
  });
});
