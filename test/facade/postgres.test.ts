// The SDK round trips and the record checks again, with a real Postgres server as the store
// (a fresh database per run) instead of embedded PGlite.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { createTestDatabase, postgresUrl, type TestDatabase } from "../helpers/pg.js";
import {
  ATTEMPTS,
  costOf,
  fullTokens,
  issueKey,
  listRecords,
  MODELS,
  PRICES,
  requestIdOf,
  startFacade,
  tokensOf,
  usageTotals,
  waitForRecord,
  waitForRecords,
  type FacadeEnv,
} from "./harness.js";

let db: TestDatabase | undefined;
let env: FacadeEnv;

beforeAll(async () => {
  // Postgres is part of the suite, not optional: say so plainly when it is not configured.
  if (!postgresUrl())
    throw new Error("TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)");
  db = await createTestDatabase("kg_facade");
  env = await startFacade({ databaseUrl: db.url });
});
afterAll(async () => {
  await env?.close();
  await db?.drop();
});
beforeEach(() => env.resetFake());

describe("façade on Postgres", () => {
  it("openai SDK round trips (plain and streamed) are recorded exactly", async () => {
    const key = await issueKey(env.admin);
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });

    env.fake.setUsage("openai", { input: 19, output: 8 });
    const { data, response } = await client.chat.completions
      .create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.providerId).toBe("openai");
    expect(rec.statusCode).toBe(200);
    expect(rec.stream).toBe(false);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 19, output: 8 }));
    expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.openai]!, { input: 19, output: 8 }), 12);

    env.fake.setUsage("openai", { input: 70, output: 35 });
    const { data: stream, response: sres } = await client.chat.completions
      .create({ model: MODELS.openai, stream: true, messages: [{ role: "user", content: "stream" }] })
      .withResponse();
    let text = "";
    for await (const c of stream) {
      expect(c.usage ?? null).toBeNull();
      text += c.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe(answerText(DEFAULT_PIECES));
    const srec = await waitForRecord(env.admin, key.instanceId, requestIdOf(sres.headers));
    expect(srec.stream).toBe(true);
    expect(srec.ttfbMs).toBeDefined();
    expect(tokensOf(srec)).toEqual(fullTokens({ input: 70, output: 35 }));
  });

  it("an anthropic stream with cache tokens, and the QueryUsage totals", async () => {
    const key = await issueKey(env.admin);
    const client = new Anthropic({ baseURL: env.gw.url, apiKey: key.secret, maxRetries: 0 });
    const cached = { input: 40, output: 12, cacheRead: 100, cacheWrite: 25 };
    env.fake.setUsage("anthropic", cached);
    const stream = client.messages.stream({
      model: MODELS.anthropic,
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    const { response } = await stream.withResponse();
    const msg = await stream.finalMessage();
    expect(msg.usage.cache_read_input_tokens).toBe(100);
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(tokensOf(rec)).toEqual(fullTokens(cached));
    expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.anthropic]!, cached), 12);

    env.fake.fail({ status: 503, on: "anthropic.messages", times: ATTEMPTS });
    await expect(
      client.messages.create({
        model: MODELS.anthropic,
        max_tokens: 8,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.InternalServerError);

    await waitForRecords(env.admin, key.instanceId, 2);
    const all = await listRecords(env.admin, key.instanceId);
    const totals = await usageTotals(env.admin, key.instanceId);
    expect(totals?.requests).toBe(2n);
    expect(totals?.errors).toBe(1n);
    expect(totals?.inputTokens).toBe(40n);
    expect(totals?.outputTokens).toBe(12n);
    expect(totals?.cacheReadTokens).toBe(100n);
    expect(totals?.cacheWriteTokens).toBe(25n);
    expect(totals?.costUsd).toBeCloseTo(
      all.reduce((s, r) => s + (r.costUsd ?? 0), 0),
      12,
    );
  });

  it("a revoked key is refused by the running gateway", async () => {
    const key = await issueKey(env.admin);
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
    await client.chat.completions.create({
      model: MODELS.openai,
      messages: [{ role: "user", content: "hi" }],
    });
    await env.admin.revokeKey({ id: key.keyId });
    // The revocation reaches the key cache through LISTEN/NOTIFY: within milliseconds, not at once
    // by contract, so the first refusal is awaited under a tight deadline.
    const deadline = Date.now() + 2000;
    let refusal: unknown;
    while (refusal === undefined && Date.now() < deadline) {
      refusal = await client.chat.completions
        .create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
    }
    expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
    // Once refused, always refused.
    await expect(
      client.chat.completions.create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
