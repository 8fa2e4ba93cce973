// Bad input, failing upstreams and clients that leave: each gets an answer in the client's own
// format, and each leaves a usage record.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { readSse } from "../fakes/sse-reader.js";
import {
  ATTEMPTS,
  ENV_NAMES,
  fullTokens,
  issueKey,
  listRecords,
  MODELS,
  requestIdOf,
  startFacade,
  tokensOf,
  usageTotals,
  waitForRecord,
  waitForRecords,
  type FacadeEnv,
  type IssuedKey,
} from "./harness.js";
import { closedPort, startRelay, within, type Relay } from "./relay.js";

const BODY_LIMIT = 16 * 1024;
const FIRST_BYTE_MS = 400;
const DEAD_MODEL = "gpt-dead-end";
const SLOW_MODEL = "gpt-slow";
const RELAYED_OPENAI = "gpt-relayed";
const RELAYED_ANTHROPIC = "claude-relayed";
const STALLING_MODEL = "gpt-stalling";
const IDLE_MS = 300;

let env: FacadeEnv;
let relay: Relay;

beforeAll(async () => {
  const port = await closedPort();
  env = await startFacade({
    config: { server: { bodyLimit: BODY_LIMIT } },
    providers: async (fake) => {
      relay = await startRelay(fake.port);
      const openaiKey = `\${${ENV_NAMES.openai}}`;
      return {
        dead: {
          type: "openai",
          apiKey: openaiKey,
          baseUrl: `http://127.0.0.1:${port}/v1`,
          models: [DEAD_MODEL],
        },
        slow: {
          type: "openai",
          apiKey: openaiKey,
          baseUrl: `${fake.url}/v1`,
          models: [SLOW_MODEL],
          timeouts: { firstByteMs: FIRST_BYTE_MS },
        },
        stalling: {
          type: "openai",
          apiKey: openaiKey,
          baseUrl: `${fake.url}/v1`,
          models: [STALLING_MODEL],
          timeouts: { idleMs: IDLE_MS },
        },
        relayed: {
          type: "openai",
          apiKey: openaiKey,
          baseUrl: `http://127.0.0.1:${relay.port}/v1`,
          models: [RELAYED_OPENAI],
        },
        "relayed-anthropic": {
          type: "anthropic",
          apiKey: `\${${ENV_NAMES.anthropic}}`,
          baseUrl: `http://127.0.0.1:${relay.port}`,
          models: [RELAYED_ANTHROPIC],
        },
      };
    },
  });
});
afterAll(async () => {
  await env?.close();
  await relay?.close();
});
beforeEach(() => env.resetFake());

function openai(key: IssuedKey): OpenAI {
  return new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
}
function anthropic(key: IssuedKey): Anthropic {
  return new Anthropic({ baseURL: env.gw.url, apiKey: key.secret, maxRetries: 0 });
}
function post(path: string, body: BodyInit, headers: Record<string, string>): Promise<Response> {
  return fetch(`${env.gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

function parses(data: string): boolean {
  try {
    JSON.parse(data);
    return true;
  } catch {
    return false;
  }
}

const chat = (model: string = MODELS.openai, content = "hi") => ({
  model,
  messages: [{ role: "user" as const, content }],
});
const message = (model: string = MODELS.anthropic, content = "hi") => ({
  model,
  max_tokens: 64,
  messages: [{ role: "user" as const, content }],
});

/** The Anthropic stream of a user message marked so its upstream connection can be found. */
async function abortAnthropicStream(key: IssuedKey): Promise<{ requestId: string; marker: string }> {
  const marker = `marker-${randomUUID()}`;
  const stream = anthropic(key).messages.stream(message(RELAYED_ANTHROPIC, marker));
  stream.on("error", () => undefined);
  const { response } = await stream.withResponse();
  await stream.emitted("text");
  stream.abort();
  await stream.done().catch(() => undefined);
  return { requestId: requestIdOf(response.headers), marker };
}

describe("bad input", () => {
  it("a body that is not JSON gets 400 in each family's format and is not forwarded", async () => {
    const key = await issueKey(env.admin);
    const bad = "this is {not json";

    const o = await post("/v1/chat/completions", bad, { authorization: `Bearer ${key.secret}` });
    expect(o.status).toBe(400);
    expect(await o.json()).toMatchObject({
      error: { type: "invalid_request_error", message: expect.any(String) },
    });

    const a = await post("/v1/messages", bad, { "x-api-key": key.secret, "anthropic-version": "2023-06-01" });
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });

    const g = await post(`/v1beta/models/${MODELS.gemini}:generateContent`, bad, {
      "x-goog-api-key": key.secret,
    });
    expect(g.status).toBe(400);
    expect(await g.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });

    const l = await post("/api/chat", bad, { authorization: `Bearer ${key.secret}` });
    expect(l.status).toBe(400);
    expect(typeof ((await l.json()) as { error?: unknown }).error).toBe("string");

    expect(env.fake.requests).toHaveLength(0);
  });

  it("a request that names no model gets 400 in the family's format", async () => {
    const key = await issueKey(env.admin);
    const o = await post("/v1/chat/completions", JSON.stringify({ messages: [] }), {
      authorization: `Bearer ${key.secret}`,
    });
    expect(o.status).toBe(400);
    expect(await o.json()).toMatchObject({ error: { type: "invalid_request_error" } });
    const a = await post("/v1/messages", JSON.stringify({ max_tokens: 5, messages: [] }), {
      "x-api-key": key.secret,
      "anthropic-version": "2023-06-01",
    });
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(env.fake.requests).toHaveLength(0);
  });

  it("a body over server.bodyLimit gets 413, declared or chunked", async () => {
    const key = await issueKey(env.admin);
    const big = "x".repeat(BODY_LIMIT + 1024);
    const err = await thrown(() => openai(key).chat.completions.create(chat(MODELS.openai, big)));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe("invalid_request_error");

    // Without a content-length the limit is enforced while reading.
    const encoder = new TextEncoder();
    const parts = [`{"model":"${MODELS.anthropic}","max_tokens":16,"messages":[{"role":"user","content":"`];
    for (let i = 0; i < 8; i++) parts.push("y".repeat(BODY_LIMIT / 4));
    parts.push(`"}]}`);
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(encoder.encode(next));
      },
    });
    const res = await post("/v1/messages", chunked, {
      "x-api-key": key.secret,
      "anthropic-version": "2023-06-01",
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "request_too_large" } });

    expect(env.fake.requests).toHaveLength(0);
  });
});

describe("failing upstreams", () => {
  it("an upstream refusing the connection gets 502 naming the provider, without secrets", async () => {
    const key = await issueKey(env.admin);
    const err = await thrown(() => openai(key).chat.completions.create(chat(DEAD_MODEL)));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const e = err as InstanceType<typeof OpenAI.InternalServerError>;
    expect(e.status).toBe(502);
    expect(e.message).toContain("'dead'");
    expect(e.message).not.toContain(env.creds.openai);
    expect(e.message).not.toContain(key.secret);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(e.headers as Headers));
    expect(rec.statusCode).toBe(502);
    expect(rec.errorClass).toBe("upstream_unreachable");
    expect(rec.providerId).toBe("dead");
    expect(rec.requestedModel).toBe(DEAD_MODEL);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 0, output: 0 }));
  });

  it("an upstream that never answers gets 504 after timeouts.firstByteMs", async () => {
    const key = await issueKey(env.admin);
    env.fake.hang({ on: "openai.chat", times: ATTEMPTS });
    const t0 = performance.now();
    const err = await thrown(() => openai(key).chat.completions.create(chat(SLOW_MODEL)));
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(504);
    expect(e.message).toContain("'slow'");
    // Each attempt waited for the first byte, and no longer than the default timeout would.
    expect(elapsed).toBeGreaterThanOrEqual(ATTEMPTS * FIRST_BYTE_MS - 50);
    expect(elapsed).toBeLessThan(ATTEMPTS * FIRST_BYTE_MS + 10_000);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(e.headers as Headers));
    expect(rec.statusCode).toBe(504);
    expect(rec.errorClass).toBe("upstream_timeout");
    expect(rec.providerId).toBe("slow");
    expect(rec.attempts.map((a) => a.errorClass)).toEqual(Array(ATTEMPTS).fill("upstream_timeout"));
  });

  it("a transient upstream 500 is retried: the client sees the answer, the record shows both attempts", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 14, output: 6 });
    env.fake.fail({ status: 500, on: "openai.chat", times: 1 });
    const { data, response } = await openai(key).chat.completions.create(chat()).withResponse();
    expect(data.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.statusCode).toBe(200);
    expect(rec.errorClass).toBe("");
    expect(rec.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 14, output: 6 }));
  });

  it("an upstream 4xx reaches the client with the upstream's own body", async () => {
    const key = await issueKey(env.admin);
    env.fake.fail({
      status: 400,
      message: "e2e: the upstream says this request is wrong",
      on: "openai.chat",
    });
    const err = await thrown(() => openai(key).chat.completions.create(chat()));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.message).toContain("e2e: the upstream says this request is wrong");
    expect(e.type).toBe("invalid_request_error");
    // keygate's own id, one value, even though the upstream sent an x-request-id of its own.
    expect(e.headers?.get("x-request-id")).not.toContain(",");
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(e.headers as Headers));
    expect(rec.statusCode).toBe(400);
    expect(rec.errorClass).not.toBe("");

    // Retry-After beyond routing.retry.maxRetryAfterMs: keygate does not wait, it passes the 429 on.
    env.fake.fail({ status: 429, retryAfter: 7, on: "anthropic.messages" });
    const res = await post("/v1/messages", JSON.stringify(message()), {
      "x-api-key": key.secret,
      "anthropic-version": "2023-06-01",
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    const body = (await res.json()) as {
      type: string;
      error: { type: string; message: string };
      request_id: string;
    };
    expect(body).toMatchObject({
      type: "error",
      error: { type: "rate_limit_error", message: expect.stringContaining("rate limit") },
    });
    // The upstream's own request id, not one keygate made up.
    expect(body.request_id).toMatch(/^req_fake/);
    const limited = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(limited.statusCode).toBe(429);
    expect(limited.errorClass).toBe("upstream_rate_limited");
  });
});

describe("streams that break", () => {
  it("a malformed chunk mid-stream: the stream still completes and the record keeps the exact usage", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 44, output: 22 });
    env.fake.malformedChunk({ on: "openai.chat", afterChunks: 2 });
    const res = await post("/v1/chat/completions", JSON.stringify({ ...chat(), stream: true }), {
      authorization: `Bearer ${key.secret}`,
    });
    expect(res.status).toBe(200);
    const events = readSse(await res.text());
    expect(events.at(-1)?.data).toBe("[DONE]");
    // The broken event did reach the client (keygate passes bytes on; it does not repair them).
    expect(events.filter((e) => !parses(e.data) && e.data !== "[DONE]")).toHaveLength(1);
    const text = events
      .map((e) => {
        try {
          const v = JSON.parse(e.data) as { choices?: { delta?: { content?: string } }[] };
          return v.choices?.[0]?.delta?.content ?? "";
        } catch {
          return "";
        }
      })
      .join("");
    expect(text).toBe(answerText(DEFAULT_PIECES));
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.statusCode).toBe(200);
    expect(rec.errorClass).toBe("");
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 44, output: 22 }));

    env.fake.setUsage("anthropic", { input: 33, output: 11 });
    env.fake.malformedChunk({ on: "anthropic.messages", afterChunks: 3 });
    const a = await post("/v1/messages", JSON.stringify({ ...message(), stream: true }), {
      "x-api-key": key.secret,
      "anthropic-version": "2023-06-01",
    });
    expect(a.status).toBe(200);
    const aEvents = readSse(await a.text());
    expect(aEvents.at(-1)?.event).toBe("message_stop");
    expect(aEvents.filter((e) => !parses(e.data))).toHaveLength(1);
    const aRec = await waitForRecord(env.admin, key.instanceId, requestIdOf(a.headers));
    expect(aRec.statusCode).toBe(200);
    expect(tokensOf(aRec)).toEqual(fullTokens({ input: 33, output: 11 }));
  });

  it("a mid-stream reset: the SDKs raise a stream error and the record names the error class", async () => {
    const key = await issueKey(env.admin);
    env.fake.streamChunks(8);
    env.fake.resetMidStream({ on: "openai.chat", afterChunks: 3 });
    const { data: stream, response } = await openai(key)
      .chat.completions.create({ ...chat(), stream: true })
      .withResponse();
    let received = 0;
    const err = await thrown(async () => {
      for await (const c of stream) if (c.choices[0]?.delta.content) received++;
    });
    expect(received).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.stream).toBe(true);
    expect(rec.statusCode).toBeGreaterThanOrEqual(500);
    expect(rec.errorClass).toBe("upstream_reset");

    env.fake.setUsage("anthropic", { input: 61, output: 30, cacheRead: 9 });
    env.fake.resetMidStream({ on: "anthropic.messages", afterChunks: 4 });
    const aStream = anthropic(key).messages.stream(message());
    aStream.on("error", () => undefined);
    const { response: aResponse } = await aStream.withResponse();
    const aErr = await thrown(() => aStream.finalMessage());
    expect(aErr).toBeInstanceOf(Anthropic.APIError);
    const aRec = await waitForRecord(env.admin, key.instanceId, requestIdOf(aResponse.headers));
    expect(aRec.errorClass).toBe("upstream_reset");
    // message_start had already reported the input side: it is recorded exactly.
    expect(Number(aRec.inputTokens)).toBe(61);
    expect(Number(aRec.cacheReadTokens)).toBe(9);
  });

  it("a mid-stream reset ends each stream with the family's own error event", async () => {
    const key = await issueKey(env.admin);
    env.fake.resetMidStream({ on: "openai.chat", afterChunks: 3 });
    const o = await post("/v1/chat/completions", JSON.stringify({ ...chat(), stream: true }), {
      authorization: `Bearer ${key.secret}`,
    });
    const oEvents = readSse(await o.text());
    const oLast = JSON.parse(oEvents.at(-1)?.data ?? "{}") as Record<string, unknown>;
    expect(oLast).toMatchObject({ error: { type: "server_error", message: expect.any(String) } });

    env.fake.resetMidStream({ on: "anthropic.messages", afterChunks: 3 });
    const a = await post("/v1/messages", JSON.stringify({ ...message(), stream: true }), {
      "x-api-key": key.secret,
      "anthropic-version": "2023-06-01",
    });
    const aEvents = readSse(await a.text());
    expect(aEvents.at(-1)?.event).toBe("error");
    expect(JSON.parse(aEvents.at(-1)?.data ?? "{}")).toMatchObject({
      type: "error",
      error: { type: "api_error" },
    });

    env.fake.resetMidStream({ on: "ollama.chat", afterChunks: 2 });
    const l = await post("/api/chat", JSON.stringify({ model: MODELS.ollama, messages: [] }), {
      authorization: `Bearer ${key.secret}`,
    });
    const lines = (await l.text()).split("\n").filter((s) => s.trim() !== "");
    expect(JSON.parse(lines.at(-1) ?? "{}")).toMatchObject({ error: expect.any(String) });
  });
});

describe("upstreams that stall", () => {
  it("a stream that stalls past timeouts.idleMs ends with an error event and an upstream_timeout record", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("openai", { input: 12, output: 30 });
    env.fake.streamChunks(5, IDLE_MS * 4);
    const res = await post(
      "/v1/chat/completions",
      JSON.stringify({ ...chat(STALLING_MODEL), stream: true }),
      {
        authorization: `Bearer ${key.secret}`,
      },
    );
    expect(res.status).toBe(200);
    const events = readSse(await res.text());
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(events.at(-1)?.data ?? "{}")).toMatchObject({ error: { message: expect.any(String) } });
    expect(events.some((e) => e.data === "[DONE]")).toBe(false);

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.stream).toBe(true);
    expect(rec.errorClass).toBe("upstream_timeout");
    expect(rec.providerId).toBe("stalling");
  });
});

describe("clients that leave", () => {
  it("a client that leaves before the upstream answers: the upstream request is aborted and recorded", async () => {
    const key = await issueKey(env.admin);
    env.fake.hang({ on: "openai.chat" });
    const marker = `marker-${randomUUID()}`;
    const ac = new AbortController();
    const pending = fetch(`${env.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key.secret}` },
      body: JSON.stringify(chat(RELAYED_OPENAI, marker)),
      signal: ac.signal,
    }).then(
      () => "answered",
      () => "aborted",
    );
    const conn = await relay.connectionCarrying(marker);
    ac.abort();
    expect(await pending).toBe("aborted");
    // The upstream never answered, so only keygate can have closed this connection.
    await within(conn.closed, 3000, "closing the upstream connection");
    expect(conn.received()).toBe("");

    const [rec] = await waitForRecords(env.admin, key.instanceId, 1);
    expect(rec?.statusCode).toBe(499);
    expect(rec?.errorClass).toBe("client_closed");
    expect(rec?.providerId).toBe("relayed");
    expect(tokensOf(rec!)).toEqual(fullTokens({ input: 0, output: 0 }));
  });

  it("an aborted Anthropic stream aborts the upstream request and records client_closed with the usage so far", async () => {
    const key = await issueKey(env.admin);
    env.fake.setUsage("anthropic", { input: 77, output: 40, cacheRead: 5, cacheWrite: 3 });
    env.fake.streamChunks(40, 100);
    const { requestId, marker } = await abortAnthropicStream(key);

    const conn = await relay.connectionCarrying(marker);
    await within(conn.closed, 3000, "closing the upstream connection");
    // Closed mid-stream: the upstream had started the answer but not finished it.
    expect(conn.received()).toContain("message_start");
    expect(conn.received()).not.toContain("message_stop");

    const rec = await waitForRecord(env.admin, key.instanceId, requestId);
    expect(rec.errorClass).toBe("client_closed");
    expect(rec.statusCode).toBe(499);
    expect(rec.stream).toBe(true);
    expect(rec.providerId).toBe("relayed-anthropic");
    expect(Number(rec.inputTokens)).toBe(77);
    expect(Number(rec.cacheReadTokens)).toBe(5);
    expect(Number(rec.cacheWriteTokens)).toBe(3);
    expect(Number(rec.outputTokens)).toBeGreaterThanOrEqual(1);
    expect(Number(rec.outputTokens)).toBeLessThan(40);
  });

  it("an OpenAI stream the client stops reading aborts the upstream request too", async () => {
    const key = await issueKey(env.admin);
    env.fake.streamChunks(40, 100);
    const marker = `marker-${randomUUID()}`;
    const { data: stream, response } = await openai(key)
      .chat.completions.create({ ...chat(RELAYED_OPENAI, marker), stream: true })
      .withResponse();
    let got = 0;
    for await (const c of stream) {
      if (c.choices[0]?.delta.content) got++;
      if (got === 2) break; // leaving the loop aborts the SDK's request
    }

    const conn = await relay.connectionCarrying(marker);
    await within(conn.closed, 3000, "closing the upstream connection");
    expect(conn.received()).not.toContain("[DONE]");

    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.errorClass).toBe("client_closed");
    expect(rec.statusCode).toBe(499);
    expect(Number(rec.outputTokens)).toBeGreaterThan(0);
  });
});

describe("records for everything", () => {
  it("successes, upstream failures and disconnects all show in ListRequests and in the QueryUsage totals", async () => {
    const key = await issueKey(env.admin);
    const o = openai(key);

    env.fake.setUsage("openai", { input: 10, output: 20 });
    await o.chat.completions.create(chat());
    env.fake.setUsage("anthropic", { input: 30, output: 5, cacheRead: 4, cacheWrite: 2 });
    await anthropic(key).messages.stream(message()).finalMessage();
    env.fake.fail({ status: 500, on: "openai.chat", times: ATTEMPTS });
    await thrown(() => o.chat.completions.create(chat()));
    await thrown(() => o.chat.completions.create(chat(DEAD_MODEL)));
    env.fake.setUsage("anthropic", { input: 77, output: 40 });
    env.fake.streamChunks(40, 100);
    await abortAnthropicStream(key);

    const records = await waitForRecords(env.admin, key.instanceId, 5);
    expect(records).toHaveLength(5);
    const byStatus = new Map(records.map((r) => [r.statusCode, r]));
    expect([...byStatus.keys()].sort()).toEqual([200, 499, 500, 502]);
    const successes = records.filter((r) => r.statusCode === 200);
    expect(successes.map((r) => r.api).sort()).toEqual(["anthropic.messages", "openai.chat"]);
    expect(tokensOf(successes.find((r) => r.api === "openai.chat")!)).toEqual(
      fullTokens({ input: 10, output: 20 }),
    );
    expect(tokensOf(successes.find((r) => r.api === "anthropic.messages")!)).toEqual(
      fullTokens({ input: 30, output: 5, cacheRead: 4, cacheWrite: 2 }),
    );
    expect(byStatus.get(500)?.errorClass).not.toBe("");
    expect(byStatus.get(502)?.errorClass).toBe("upstream_unreachable");
    expect(byStatus.get(499)?.errorClass).toBe("client_closed");
    expect(Number(byStatus.get(499)?.inputTokens)).toBe(77);

    const totals = await usageTotals(env.admin, key.instanceId);
    expect(totals).toBeDefined();
    const all = await listRecords(env.admin, key.instanceId);
    const sum = (f: (r: (typeof all)[number]) => bigint): bigint => all.reduce((s, r) => s + f(r), 0n);
    expect(totals!.requests).toBe(5n);
    expect(totals!.errors).toBe(3n);
    expect(totals!.inputTokens).toBe(sum((r) => r.inputTokens));
    expect(totals!.outputTokens).toBe(sum((r) => r.outputTokens));
    expect(totals!.cacheReadTokens).toBe(sum((r) => r.cacheReadTokens));
    expect(totals!.cacheWriteTokens).toBe(sum((r) => r.cacheWriteTokens));
    expect(totals!.inputTokens).toBe(BigInt(10 + 30 + 77));
    const priced = all.filter((r) => r.costUsd !== undefined);
    expect(totals!.unpricedRequests).toBe(BigInt(all.length - priced.length));
    expect(totals!.costUsd).toBeCloseTo(
      priced.reduce((s, r) => s + (r.costUsd ?? 0), 0),
      12,
    );
  });
});
