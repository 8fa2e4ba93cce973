// An answer that leaves its usage out (some OpenAI-compatible servers; Ollama when its prompt was
// cached) has an unknown cost, not $0: the record says so, a budget keeps the request's
// reservation and a token limit its estimate. On a free model it still costs nothing.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import OpenAI from "openai";
import { BudgetWindow } from "../../sdk/index.js";
import {
  fullTokens,
  lastRequest,
  MODELS,
  postJson,
  PRICES,
  requestIdOf,
  tokensOf,
  useFacade,
  waitForRecord,
} from "./harness.js";

const env = useFacade();

async function limitedKey(): Promise<{ instanceId: string; keyId: string; secret: string }> {
  const instanceId = `e2e-${randomUUID().slice(0, 8)}`;
  await env.admin.createInstance({ instanceId });
  const { key, secret } = await env.admin.createKey({
    instanceId,
    budgets: [{ window: BudgetWindow.DAILY, limitUsd: 5 }],
    rateLimit: { tokensPerDay: 1_000_000n },
  });
  if (!key) throw new Error("CreateKey returned no key");
  return { instanceId, keyId: key.id, secret };
}

describe("answers that report no usage", () => {
  it("on a priced model: the cost is unknown, and the budget and token limit keep what was reserved", async () => {
    const key = await limitedKey();
    env.fake.withholdUsage("openai");
    const maxTokens = 1000;
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: MODELS.openai, max_tokens: maxTokens, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    expect(data.usage).toBeUndefined();

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.statusCode).toBe(200);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 0, output: 0 }));
    expect(rec.costUsd).toBeUndefined();

    // What admission reserved: the body's size over four as input, max_tokens as output.
    const estimatedInput = Math.ceil(Buffer.byteLength(lastRequest(env.fake).raw) / 4);
    const price = PRICES[MODELS.openai]!;
    const reserved = (estimatedInput * price.input + maxTokens * price.output) / 1_000_000;
    const status = await env.admin.getLimitStatus({ keyId: key.keyId });
    expect(status.budgets[0]?.spentUsd).toBeCloseTo(reserved, 5);
    const tokens = status.rateLimits.find((r) => r.dimension === "tokens_per_day");
    expect(Number(tokens?.used)).toBe(estimatedInput + maxTokens);
  });

  it("on a free (local) model: it costs nothing, and the token limit keeps the estimate", async () => {
    const key = await limitedKey();
    env.fake.withholdUsage("ollama");
    const res = await postJson(
      env,
      "/api/chat",
      { model: MODELS.ollama, stream: false, messages: [{ role: "user", content: "Hi" }] },
      { authorization: `Bearer ${key.secret}` },
    );
    expect(res.status).toBe(200);
    expect((await res.json()) as Record<string, unknown>).not.toHaveProperty("prompt_eval_count");
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 0, output: 0 }));
    expect(rec.costUsd).toBe(0);
    // The request set no num_predict: 1,024 output tokens were reserved, with the body's size over four.
    const estimated = Math.ceil(Buffer.byteLength(lastRequest(env.fake).raw) / 4) + 1024;
    const status = await env.admin.getLimitStatus({ keyId: key.keyId });
    const tokens = status.rateLimits.find((r) => r.dimension === "tokens_per_day");
    expect(Number(tokens?.used)).toBe(estimated);
  });
});
