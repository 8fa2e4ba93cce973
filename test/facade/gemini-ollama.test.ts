// Gemini and Ollama clients speak plain HTTP; these tests use fetch the way their SDKs do:
// Gemini with x-goog-api-key or ?key=, Ollama with NDJSON streams and a Bearer key.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { ndjsonLines, readSse } from "../fakes/sse-reader.js";
import {
  costOf,
  fullTokens,
  issueKey,
  lastRequest,
  postJson,
  MODELS,
  PRICES,
  requestIdOf,
  startFacade,
  tokensOf,
  waitForRecord,
  type FacadeEnv,
  type IssuedKey,
} from "./harness.js";

let env: FacadeEnv;

beforeAll(async () => {
  env = await startFacade();
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.resetFake());

type Json = Record<string, unknown>;

const post = (path: string, body: unknown, headers: Record<string, string>): Promise<Response> =>
  postJson(env, path, body, headers);

const GEMINI_BODY = { contents: [{ role: "user", parts: [{ text: "Hello Gemini" }] }] };

function geminiText(chunk: unknown): string {
  const c = chunk as { candidates?: { content?: { parts?: { text?: string }[] } }[] };
  return (c.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? "").join("");
}

describe("Gemini generateContent through keygate", () => {
  it("with x-goog-api-key: answer, real credential upstream, exact record", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("google", { input: 42, output: 17 });
    const res = await post(`/v1beta/models/${MODELS.gemini}:generateContent`, GEMINI_BODY, {
      "x-goog-api-key": key.secret,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-keygate-overhead-ms")).not.toBeNull();
    const body = (await res.json()) as Json;
    expect(geminiText(body)).toBe(answerText(DEFAULT_PIECES));
    expect(body.usageMetadata).toMatchObject({ promptTokenCount: 42, candidatesTokenCount: 17 });

    const up = lastRequest(env.fake);
    expect(up.path).toBe(`/v1beta/models/${MODELS.gemini}:generateContent`);
    expect(up.headers["x-goog-api-key"]).toBe(env.creds.google);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.api).toBe("google.generate");
    expect(rec.providerId).toBe("google");
    expect(rec.requestedModel).toBe(MODELS.gemini);
    expect(rec.servedModel).toBe(MODELS.gemini);
    expect(rec.statusCode).toBe(200);
    expect(rec.stream).toBe(false);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 42, output: 17 }));
    expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.gemini]!, { input: 42, output: 17 }), 12);
  });

  it("with ?key=: the virtual key never reaches the upstream's query string", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("google", { input: 5, output: 6 });
    const res = await post(
      `/v1beta/models/${MODELS.gemini}:generateContent?key=${encodeURIComponent(key.secret)}`,
      GEMINI_BODY,
      {},
    );
    expect(res.status).toBe(200);
    expect(geminiText(await res.json())).toBe(answerText(DEFAULT_PIECES));

    const up = lastRequest(env.fake);
    expect(up.query.key).toBeUndefined();
    expect(up.headers["x-goog-api-key"]).toBe(env.creds.google);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 5, output: 6 }));
  });

  it("streamGenerateContent?alt=sse streams every chunk and records the final usageMetadata", async () => {
    const key = await issueKey(env.admin);
    // promptTokenCount includes the cached tokens: keygate records the uncached remainder as input.
    env.fake.setUsage("google", { input: 60, output: 25, cacheRead: 20 });
    env.fake.streamChunks(4);
    const res = await post(`/v1beta/models/${MODELS.gemini}:streamGenerateContent?alt=sse`, GEMINI_BODY, {
      "x-goog-api-key": key.secret,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = readSse(await res.text());
    expect(events).toHaveLength(4);
    const chunks = events.map((e) => JSON.parse(e.data) as Json);
    expect(chunks.map(geminiText).join("")).toBe(answerText(4));
    expect(chunks.at(-1)?.usageMetadata).toMatchObject({
      promptTokenCount: 60,
      candidatesTokenCount: 25,
      cachedContentTokenCount: 20,
    });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.stream).toBe(true);
    expect(rec.ttfbMs).toBeDefined();
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 40, output: 25, cacheRead: 20 }));
    expect(rec.costUsd).toBeCloseTo(
      costOf(PRICES[MODELS.gemini]!, { input: 40, output: 25, cacheRead: 20 }),
      12,
    );
  });

  it("streamGenerateContent without alt=sse answers Gemini's streamed JSON array", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("google", { input: 18, output: 7 });
    env.fake.streamChunks(3);
    const res = await post(`/v1beta/models/${MODELS.gemini}:streamGenerateContent`, GEMINI_BODY, {
      "x-goog-api-key": key.secret,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    // Without alt=sse, Google sends one JSON array whose elements are the stream's chunks.
    const chunks = JSON.parse(text) as unknown;
    expect(Array.isArray(chunks)).toBe(true);
    const list = chunks as Json[];
    expect(list.map(geminiText).join("")).toBe(answerText(3));
    expect(list.at(-1)?.usageMetadata).toMatchObject({ promptTokenCount: 18, candidatesTokenCount: 7 });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 18, output: 7 }));
  });

  it("GET /v1beta/models lists only the key's models", async () => {
    const key = await issueKey(env.admin, { allowedModels: ["gemini-*"] });
    const res = await fetch(`${env.gw.url}/v1beta/models`, { headers: { "x-goog-api-key": key.secret } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: { name: string }[] };
    expect(body.models.map((m) => m.name)).toEqual([`models/${MODELS.gemini}`]);
  });
});

describe("Ollama through keygate", () => {
  const auth = (key: IssuedKey): Record<string, string> => ({ authorization: `Bearer ${key.secret}` });
  const messages = [{ role: "user", content: "Hello Ollama" }];

  it("/api/chat streams NDJSON by default and records the final object's counts", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("ollama", { input: 26, output: 14 });
    const res = await post("/api/chat", { model: MODELS.ollama, messages }, auth(key));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/ndjson/);
    const lines: Json[] = [];
    for await (const line of ndjsonLines(res)) if (line.trim() !== "") lines.push(JSON.parse(line) as Json);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ done: true, prompt_eval_count: 26, eval_count: 14 });
    const text = lines.map((l) => (l.message as { content?: string } | undefined)?.content ?? "").join("");
    expect(text).toBe(answerText(DEFAULT_PIECES));
    expect(lastRequest(env.fake).headers.authorization).toBe(`Bearer ${env.creds.ollama}`);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.api).toBe("ollama.chat");
    expect(rec.providerId).toBe("ollama");
    expect(rec.requestedModel).toBe(MODELS.ollama);
    expect(rec.stream).toBe(true);
    expect(rec.ttfbMs).toBeDefined();
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 26, output: 14 }));
    // A local model is free: a known cost of 0.
    expect(rec.costUsd).toBe(0);
  });

  it("/api/chat with stream:false answers one JSON object", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("ollama", { input: 8, output: 4 });
    const res = await post("/api/chat", { model: MODELS.ollama, messages, stream: false }, auth(key));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      done: true,
      message: { role: "assistant", content: answerText(DEFAULT_PIECES) },
    });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.stream).toBe(false);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 8, output: 4 }));
  });

  it("/api/generate answers and is recorded as ollama.generate", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("ollama", { input: 12, output: 9 });
    const res = await post(
      "/api/generate",
      { model: MODELS.ollama, prompt: "Why is the sky blue?", stream: false },
      auth(key),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ done: true, response: answerText(DEFAULT_PIECES) });

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.api).toBe("ollama.generate");
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 12, output: 9 }));
  });

  it("/api/tags lists only the key's models", async () => {
    const key = await issueKey(env.admin, { allowedModels: ["llama*"] });
    const res = await fetch(`${env.gw.url}/api/tags`, { headers: auth(key) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: { name: string; model: string }[] };
    expect(body.models.map((m) => m.name)).toEqual([MODELS.ollama]);
  });
});
