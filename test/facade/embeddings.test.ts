// Embeddings and token counting in the Gemini and Ollama wire formats, as their clients call them
// (plain HTTP): forwarded with the real credential, recorded, and priced. Gemini's embedding
// answers and Ollama's older /api/embeddings carry no token counts, so keygate estimates the input
// from the text sent (about four characters a token).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BudgetWindow } from "../../sdk/index.js";
import {
  ENV_NAMES,
  fullTokens,
  issueKey,
  lastRequest,
  postJson,
  requestIdOf,
  tokensOf,
  useFacade,
  waitForRecord,
} from "./harness.js";

const GEMINI_EMBED = "gemini-embedding-001";
/** Built-in price of gemini-embedding-001, USD per million input tokens. */
const GEMINI_EMBED_PRICE = 0.15;
const GEMINI_UNPRICED = "gemini-unpriced-e2e";
const OLLAMA_EMBED = "nomic-embed-text";
const ALIAS = "embed-alias";

const env = useFacade({
  providers: (fake) => ({
    "gemini-embed": {
      type: "google",
      apiKey: `\${${ENV_NAMES.google}}`,
      baseUrl: fake.url,
      models: [GEMINI_EMBED, GEMINI_UNPRICED],
    },
    "ollama-embed": {
      type: "ollama",
      apiKey: `\${${ENV_NAMES.ollama}}`,
      baseUrl: fake.url,
      models: [OLLAMA_EMBED],
    },
  }),
  config: {
    routing: {
      aliases: { [ALIAS]: [{ provider: "gemini-embed", model: GEMINI_EMBED }] },
      retry: { maxAttempts: 1 },
    },
  },
});

type Json = Record<string, unknown>;

const post = (path: string, body: unknown, headers: Record<string, string>): Promise<Response> =>
  postJson(env, path, body, headers);

const content = (text: string) => ({ parts: [{ text }] });

describe("Gemini embeddings and countTokens", () => {
  it("embedContent: the real credential goes upstream, and the input is estimated from the text", async () => {
    const key = await issueKey(env.admin);
    const text = "Embed this sentence, please."; // 28 characters: 7 tokens
    const res = await post(
      `/v1beta/models/${GEMINI_EMBED}:embedContent`,
      { content: content(text), taskType: "RETRIEVAL_DOCUMENT" },
      { "x-goog-api-key": key.secret },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { embedding: { values: number[] } };
    expect(body.embedding.values.length).toBeGreaterThan(0);

    const up = lastRequest(env.fake);
    expect(up.path).toBe(`/v1beta/models/${GEMINI_EMBED}:embedContent`);
    expect(up.headers["x-goog-api-key"]).toBe(env.creds.google);
    expect(up.body).toEqual({ content: content(text), taskType: "RETRIEVAL_DOCUMENT" });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.api).toBe("google.embed");
    expect(rec.providerId).toBe("gemini-embed");
    expect(rec.statusCode).toBe(200);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 7, output: 0 }));
    expect(rec.costUsd).toBeCloseTo((7 * GEMINI_EMBED_PRICE) / 1_000_000, 15);
  });

  it("batchEmbedContents is forwarded as sent, and through an alias every request names the served model", async () => {
    const key = await issueKey(env.admin);
    const batch = (model: string) => ({
      requests: [
        { model: `models/${model}`, content: content("abcd") },
        { model: `models/${model}`, content: content("efghijkl"), outputDimensionality: 2 },
      ],
    });

    const direct = await post(`/v1beta/models/${GEMINI_EMBED}:batchEmbedContents`, batch(GEMINI_EMBED), {
      "x-goog-api-key": key.secret,
    });
    expect(direct.status).toBe(200);
    expect(lastRequest(env.fake).raw).toBe(JSON.stringify(batch(GEMINI_EMBED)));

    // The upstream refuses a batch whose requests name another model than its path.
    const aliased = await post(`/v1beta/models/${ALIAS}:batchEmbedContents`, batch(ALIAS), {
      "x-goog-api-key": key.secret,
    });
    expect(aliased.status).toBe(200);
    const body = (await aliased.json()) as { embeddings: { values: number[] }[] };
    expect(body.embeddings).toHaveLength(2);
    const up = lastRequest(env.fake);
    expect(up.path).toBe(`/v1beta/models/${GEMINI_EMBED}:batchEmbedContents`);
    expect(up.body).toEqual(batch(GEMINI_EMBED));

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(aliased.headers));
    expect(rec.api).toBe("google.batch_embed");
    expect(rec.requestedModel).toBe(ALIAS);
    expect(rec.servedModel).toBe(GEMINI_EMBED);
    // 12 characters of text over both requests: 3 tokens.
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 3, output: 0 }));
    expect(rec.costUsd).toBeCloseTo((3 * GEMINI_EMBED_PRICE) / 1_000_000, 15);
  });

  it("countTokens consumes nothing, so a budget does not refuse it even for an unpriced model; embedding with that model is refused", async () => {
    const instanceId = `e2e-${randomUUID().slice(0, 8)}`;
    await env.admin.createInstance({ instanceId });
    const { secret } = await env.admin.createKey({
      instanceId,
      budgets: [{ window: BudgetWindow.DAILY, limitUsd: 5 }],
    });
    env.fake.setUsage("google", { input: 31, output: 0 });
    const counted = await post(
      `/v1beta/models/${GEMINI_UNPRICED}:countTokens`,
      { contents: [{ role: "user", parts: [{ text: "How many tokens is this?" }] }] },
      { "x-goog-api-key": secret },
    );
    expect(counted.status).toBe(200);
    expect(((await counted.json()) as Json).totalTokens).toBe(31);
    expect(lastRequest(env.fake).path).toBe(`/v1beta/models/${GEMINI_UNPRICED}:countTokens`);
    const rec = await waitForRecord(env.admin, instanceId, requestIdOf(counted.headers));
    expect(rec.api).toBe("google.count_tokens");
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 0, output: 0 }));
    expect(rec.costUsd).toBe(0);

    const sentBefore = env.fake.requests.length;
    const refused = await post(
      `/v1beta/models/${GEMINI_UNPRICED}:embedContent`,
      { content: content("x") },
      { "x-goog-api-key": secret },
    );
    expect(refused.status).toBe(403);
    expect(env.fake.requests).toHaveLength(sentBefore);
    expect(await refused.json()).toMatchObject({ error: { code: 403, status: "PERMISSION_DENIED" } });
  });
});

describe("Ollama embeddings", () => {
  it("/api/embed: counts come from prompt_eval_count, and the model is free", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("ollama", { input: 9, output: 0 });
    const res = await post(
      "/api/embed",
      { model: OLLAMA_EMBED, input: ["first text", "second text"] },
      { authorization: `Bearer ${key.secret}` },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; embeddings: number[][]; prompt_eval_count: number };
    expect(body.model).toBe(OLLAMA_EMBED);
    expect(body.embeddings).toHaveLength(2);

    const up = lastRequest(env.fake);
    expect(up.path).toBe("/api/embed");
    expect(up.headers.authorization).toBe(`Bearer ${env.creds.ollama}`);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.api).toBe("ollama.embed");
    expect(rec.providerId).toBe("ollama-embed");
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 9, output: 0 }));
    expect(rec.costUsd).toBe(0);
  });

  it("/api/embeddings, the older endpoint: the input is estimated from the prompt", async () => {
    const key = await issueKey(env.admin);
    const res = await post(
      "/api/embeddings",
      { model: OLLAMA_EMBED, prompt: "sixteen chars..." },
      { authorization: `Bearer ${key.secret}` },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).embedding).toBeInstanceOf(Array);
    expect(lastRequest(env.fake).path).toBe("/api/embeddings");
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.api).toBe("ollama.embeddings");
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 4, output: 0 }));
  });
});
