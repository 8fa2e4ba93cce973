// Gemini generateContent / streamGenerateContent?alt=sse, read with plain fetch and eventsource-parser.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "./content.js";
import { startFakeUpstream } from "./server.js";
import type { FakeUpstream } from "./server.js";
import { readSse } from "./sse-reader.js";

let fake: FakeUpstream;
const KEY = "AIza-real-upstream-key";
const request = { contents: [{ role: "user", parts: [{ text: "Say hello" }] }] };

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset({ settings: true }));

function call(
  action: string,
  opts: { query?: string; key?: string; body?: unknown } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== undefined) headers["x-goog-api-key"] = opts.key;
  return fetch(`${fake.url}/v1beta/models/gemini-2.0-flash:${action}${opts.query ?? ""}`, {
    method: "POST",
    headers,
    body: JSON.stringify(opts.body ?? request),
  });
}

interface GenerateResponse {
  candidates: { content: { parts: { text: string }[]; role: string }; finishReason?: string }[];
  usageMetadata: Record<string, unknown>;
  modelVersion: string;
}

describe("generateContent", () => {
  it("answers with candidates and usageMetadata, the key arriving in x-goog-api-key", async () => {
    fake.setUsage("google", { input: 30, output: 12, cacheRead: 8 });
    const res = await call("generateContent", { key: KEY });
    expect(res.status).toBe(200);
    const body = (await res.json()) as GenerateResponse;
    expect(body.candidates[0]?.content).toEqual({
      parts: [{ text: answerText(DEFAULT_PIECES) }],
      role: "model",
    });
    expect(body.candidates[0]?.finishReason).toBe("STOP");
    expect(body.usageMetadata).toMatchObject({
      promptTokenCount: 30,
      candidatesTokenCount: 12,
      totalTokenCount: 42,
      cachedContentTokenCount: 8,
    });
    expect(body.modelVersion).toBe("gemini-2.0-flash");
    expect(fake.requests[0]).toMatchObject({ route: "google.generate", stream: false });
    expect(fake.requests[0]?.headers["x-goog-api-key"]).toBe(KEY);
  });

  it("streams CRLF-framed SSE whose last chunk carries finishReason and the full usage", async () => {
    fake.setUsage("google", { input: 5, output: 9 });
    fake.streamChunks(3);
    const res = await call("streamGenerateContent", { query: `?alt=sse&key=${KEY}` });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const raw = await res.text();
    expect(raw.split("\r\n\r\n").filter((s) => s !== "")).toHaveLength(3);
    expect(raw.startsWith("data: {")).toBe(true);
    const chunks = readSse(raw).map((e) => JSON.parse(e.data) as GenerateResponse);
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join("")).toBe(answerText(3));
    const last = chunks[2];
    expect(last?.candidates[0]?.finishReason).toBe("STOP");
    expect(last?.usageMetadata).toMatchObject({
      promptTokenCount: 5,
      candidatesTokenCount: 9,
      totalTokenCount: 14,
    });
    expect(chunks[0]?.usageMetadata).toMatchObject({ promptTokenCount: 5, totalTokenCount: 5 });
    expect(chunks[0]?.usageMetadata).not.toHaveProperty("candidatesTokenCount");
    expect(fake.requests[0]).toMatchObject({
      route: "google.generate",
      stream: true,
      query: { alt: "sse", key: KEY },
    });
  });

  it("answers streamGenerateContent without alt=sse as one JSON array", async () => {
    const res = await call("streamGenerateContent", { key: KEY });
    const chunks = (await res.json()) as GenerateResponse[];
    expect(chunks).toHaveLength(DEFAULT_PIECES);
    expect(fake.requests[0]?.stream).toBe(false);
  });

  it("counts tokens, embeds and lists models", async () => {
    fake.setUsage("google", { input: 17, output: 0 });
    const count = (await (await call("countTokens", { key: KEY })).json()) as { totalTokens: number };
    expect(count.totalTokens).toBe(17);
    const embed = (await (
      await call("embedContent", { key: KEY, body: { content: { parts: [{ text: "x" }] } } })
    ).json()) as { embedding: { values: number[] } };
    expect(embed.embedding.values).toHaveLength(8);
    const requests = [
      { model: "models/gemini-2.0-flash", content: { parts: [{ text: "a" }] } },
      { model: "models/gemini-2.0-flash", content: { parts: [{ text: "b" }] } },
    ];
    const batch = (await (await call("batchEmbedContents", { key: KEY, body: { requests } })).json()) as {
      embeddings: { values: number[] }[];
    };
    expect(batch.embeddings).toHaveLength(2);
    // Every request must name the path's model.
    const mismatched = await call("batchEmbedContents", {
      key: KEY,
      body: { requests: [{ ...requests[0], model: "models/other" }] },
    });
    expect(mismatched.status).toBe(400);
    expect(await mismatched.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
    const list = (await (await fetch(`${fake.url}/v1beta/models?key=${KEY}`)).json()) as {
      models: { name: string }[];
    };
    expect(list.models.map((m) => m.name)).toContain("models/gemini-2.0-flash");
  });
});

describe("errors", () => {
  it("refuses a missing key with 403 PERMISSION_DENIED and a wrong one with 400 API_KEY_INVALID", async () => {
    const missing = await call("generateContent");
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ error: { code: 403, status: "PERMISSION_DENIED" } });
    fake.expectCredential("google", "AIza-the-only-good-key");
    const wrong = await call("generateContent", { key: KEY });
    expect(wrong.status).toBe(400);
    const body = (await wrong.json()) as { error: { status: string; details: { reason: string }[] } };
    expect(body.error.status).toBe("INVALID_ARGUMENT");
    expect(body.error.details[0]?.reason).toBe("API_KEY_INVALID");
    expect(JSON.stringify(body)).not.toContain(KEY);
  });

  it("answers 429 RESOURCE_EXHAUSTED with the delay as RetryInfo, not a header", async () => {
    fake.fail({ status: 429, retryAfter: 7, on: "google" });
    const res = await call("generateContent", { key: KEY });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(await res.json()).toMatchObject({
      error: {
        code: 429,
        status: "RESOURCE_EXHAUSTED",
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" }],
      },
    });
  });

  it("rejects a request without contents with 400 INVALID_ARGUMENT", async () => {
    const res = await call("generateContent", { key: KEY, body: {} });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
  });
});
