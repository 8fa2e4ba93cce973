// Every fault mode of the fake, plus scoping, ordering and reset.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "./content.js";
import { startFakeUpstream } from "./server.js";
import type { FakeUpstream } from "./server.js";
import { ndjsonLines, readSse, sseEvents } from "./sse-reader.js";
import type { SseEvent } from "./sse-reader.js";

let fake: FakeUpstream;
const KEY = "sk-real";

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset({ settings: true }));

const chat = (body: Record<string, unknown> = {}, base = fake.url): Promise<Response> =>
  fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], ...body }),
  });
const ollamaChat = (body: Record<string, unknown> = {}): Promise<Response> =>
  fetch(`${fake.url}/api/chat`, {
    method: "POST",
    body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], ...body }),
  });

function parses(data: string): boolean {
  try {
    JSON.parse(data);
    return true;
  } catch {
    return false;
  }
}

/** Reads SSE events until the stream ends or breaks; says which. */
async function drain(res: Response): Promise<{ events: SseEvent[]; broke: boolean }> {
  const events: SseEvent[] = [];
  try {
    for await (const e of sseEvents(res)) events.push(e);
    return { events, broke: false };
  } catch {
    return { events, broke: true };
  }
}

describe("fail", () => {
  it("answers the queued status for `times` requests, then recovers", async () => {
    fake.fail({ status: 500, times: 2 });
    expect((await chat()).status).toBe(500);
    expect((await chat()).status).toBe(500);
    expect((await chat()).status).toBe(200);
  });

  it("honours route and family scopes and keeps other traffic untouched", async () => {
    fake.fail({ status: 429, on: "openai.responses" });
    fake.fail({ status: 529, on: "anthropic", times: Infinity });
    expect((await chat()).status).toBe(200);
    const responses = await fetch(`${fake.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", input: "hi" }),
    });
    expect(responses.status).toBe(429);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${fake.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "x-api-key": "k", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "m", messages: [] }),
      });
      expect(res.status).toBe(529);
    }
  });
});

describe("delay", () => {
  it("holds the headers back for the given time, once", async () => {
    fake.delay(250);
    const t0 = performance.now();
    const res = await chat();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(res.status).toBe(200);
    const t1 = performance.now();
    await (await chat()).text();
    expect(performance.now() - t1).toBeLessThan(240);
  });
});

describe("hang", () => {
  it("accepts the request and never answers until the fake closes", async () => {
    const own = await startFakeUpstream();
    own.hang({ on: "openai.chat" });
    let settled = false;
    const hung = chat({}, own.url).finally(() => {
      settled = true;
    });
    await own.waitForRequest((r) => r.route === "openai.chat");
    // A later request is served while the first one is still pending.
    const models = await fetch(`${own.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(models.status).toBe(200);
    await models.text();
    expect(settled).toBe(false);
    await own.close();
    await expect(hung).rejects.toThrow();
  });
});

describe("resetMidStream", () => {
  it("destroys the socket after exactly N stream events", async () => {
    fake.resetMidStream({ afterChunks: 3 });
    const res = await chat({ stream: true });
    expect(res.status).toBe(200);
    const { events, broke } = await drain(res);
    expect(broke).toBe(true);
    expect(events).toHaveLength(3);
    expect(events.every((e) => parses(e.data))).toBe(true);
  });

  it("cuts a non-streaming body half-way", async () => {
    fake.resetMidStream();
    const res = await chat();
    await expect(res.json()).rejects.toThrow();
  });

  it("surfaces as a connection error in the openai SDK", async () => {
    fake.resetMidStream({ afterChunks: 2 });
    const client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of stream) got.push(c.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(got).toHaveLength(2);
  });
});

describe("malformedChunk", () => {
  it("slips one unparsable SSE data line into the stream and then finishes normally", async () => {
    const clean = readSse(await (await chat({ stream: true })).text());
    fake.malformedChunk({ afterChunks: 2 });
    const events = readSse(await (await chat({ stream: true })).text());
    const broken = events.filter((e) => e.data !== "[DONE]" && !parses(e.data));
    expect(broken).toHaveLength(1);
    expect(events.indexOf(broken[0] as SseEvent)).toBe(2);
    expect(events.filter((e) => e !== broken[0])).toHaveLength(clean.length);
    expect(events[events.length - 1]?.data).toBe("[DONE]");
  });

  it("slips one broken NDJSON line into an Ollama stream", async () => {
    fake.malformedChunk({ on: "ollama" });
    const got: string[] = [];
    for await (const line of ndjsonLines(await ollamaChat())) got.push(line);
    expect(got.filter((l) => !parses(l))).toHaveLength(1);
    expect(got).toHaveLength(DEFAULT_PIECES + 2);
    expect(JSON.parse(got[got.length - 1] ?? "{}")).toMatchObject({ done: true });
  });

  it("waits in the queue while non-streaming requests pass", async () => {
    fake.malformedChunk();
    const plain = await chat();
    expect(parses(await plain.text())).toBe(true);
    const events = readSse(await (await chat({ stream: true })).text());
    expect(events.filter((e) => e.data !== "[DONE]" && !parses(e.data))).toHaveLength(1);
  });
});

describe("streamError", () => {
  it("ends an OpenAI chat stream with an error data line that the SDK raises", async () => {
    fake.streamError({ afterChunks: 2, times: 2 });
    const events = readSse(await (await chat({ stream: true })).text());
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2]?.data ?? "{}")).toMatchObject({ error: { type: "server_error" } });
    const client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const err = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
  });

  it("ends a Responses stream with error then response.failed", async () => {
    fake.streamError({ afterChunks: 2, on: "openai.responses" });
    const res = await fetch(`${fake.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "gpt-4o", input: "hi", stream: true }),
    });
    const events = readSse(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "error",
      "response.failed",
    ]);
    expect(JSON.parse(events[3]?.data ?? "{}")).toMatchObject({
      sequence_number: 3,
      response: { status: "failed", error: { code: "server_error" } },
    });
  });

  it("ends Gemini and Ollama streams with their own error objects", async () => {
    fake.streamError({ afterChunks: 1, on: "google" });
    fake.streamError({ afterChunks: 1, on: "ollama" });
    const gemini = await fetch(
      `${fake.url}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=k`,
      {
        method: "POST",
        body: JSON.stringify({ contents: [] }),
      },
    );
    const gEvents = readSse(await gemini.text());
    expect(gEvents).toHaveLength(2);
    expect(JSON.parse(gEvents[1]?.data ?? "{}")).toMatchObject({
      error: { code: 503, status: "UNAVAILABLE" },
    });
    const oLines = (await (await ollamaChat()).text()).trimEnd().split("\n");
    expect(oLines).toHaveLength(2);
    expect(JSON.parse(oLines[1] ?? "{}")).toHaveProperty("error");
  });
});

describe("streamChunks", () => {
  it("cuts the answer into n pieces and paces every event after the first", async () => {
    fake.streamChunks(3, 40);
    const t0 = performance.now();
    const lines: string[] = [];
    for await (const line of ndjsonLines(await ollamaChat())) lines.push(line);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(lines).toHaveLength(4);
    const text = lines
      .slice(0, 3)
      .map((l) => (JSON.parse(l) as { message: { content: string } }).message.content)
      .join("");
    expect(text).toBe(answerText(3));
  });
});

describe("bookkeeping", () => {
  it("reset() drops queued faults and recorded requests", async () => {
    fake.fail({ status: 500, times: Infinity });
    await chat();
    expect(fake.requests).toHaveLength(1);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect((await chat()).status).toBe(200);
  });

  it("waitForRequest resolves for past and future requests", async () => {
    await chat();
    await expect(fake.waitForRequest((r) => r.route === "openai.chat")).resolves.toMatchObject({
      method: "POST",
    });
    const later = fake.waitForRequest((r) => r.route === "ollama.tags");
    await fetch(`${fake.url}/api/tags`);
    await expect(later).resolves.toMatchObject({ path: "/api/tags" });
  });

  it("answers unknown paths like the server whose prefix they use", async () => {
    const openaiLike = await fetch(`${fake.url}/v1/nope`, { method: "POST" });
    expect(openaiLike.status).toBe(404);
    expect(await openaiLike.json()).toMatchObject({ error: { type: "invalid_request_error" } });
    const ollamaLike = await fetch(`${fake.url}/api/nope`);
    expect(await ollamaLike.text()).toBe("404 page not found");
    expect(fake.requests.map((r) => r.route)).toEqual([undefined, undefined]);
  });
});
