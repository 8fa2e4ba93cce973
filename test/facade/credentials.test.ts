// The credential swap: the upstream sees only the real provider credential, never the virtual key;
// provider headers the client chose travel on; cookies travel in neither direction.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import {
  startCookieUpstream,
  UPSTREAM_COOKIE,
  UPSTREAM_HOP_HEADER,
  UPSTREAM_REQUEST_ID,
  type CookieUpstream,
} from "./cookie-upstream.js";
import {
  issueKey,
  lastRequest,
  listRecords,
  waitForRecords,
  MODELS,
  requestText,
  startFacade,
  type FacadeEnv,
  type IssuedKey,
} from "./harness.js";

let env: FacadeEnv;
let cookieUpstream: CookieUpstream;
const COOKIE_CREDENTIAL = `sk-SENTINEL-cookie-${randomBytes(12).toString("hex")}`;
const COOKIE_MODEL = "cookie-model";

beforeAll(async () => {
  cookieUpstream = await startCookieUpstream();
  env = await startFacade({
    providers: () => ({
      cookie: {
        type: "openai-compatible",
        apiKey: COOKIE_CREDENTIAL,
        baseUrl: `${cookieUpstream.url}/v1`,
        models: [COOKIE_MODEL],
      },
    }),
  });
});
afterAll(async () => {
  await env?.close();
  await cookieUpstream?.close();
});
beforeEach(() => env.resetFake());

function post(path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${env.gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

/** One successful call per family; the fake rejects any credential other than the real one. */
async function callEveryFamily(key: IssuedKey): Promise<void> {
  const openai = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
  await openai.chat.completions.create({ model: MODELS.openai, messages: [{ role: "user", content: "a" }] });
  const stream = await openai.chat.completions.create({
    model: MODELS.openai,
    stream: true,
    messages: [{ role: "user", content: "b" }],
  });
  for await (const chunk of stream) void chunk;
  await openai.embeddings.create({ model: MODELS.embedding, input: "c" });
  await openai.responses.create({ model: MODELS.openai, input: "d" });

  const anthropic = new Anthropic({ baseURL: env.gw.url, apiKey: key.secret, maxRetries: 0 });
  await anthropic.messages.create({
    model: MODELS.anthropic,
    max_tokens: 16,
    messages: [{ role: "user", content: "e" }],
  });
  await anthropic.messages.countTokens({
    model: MODELS.anthropic,
    messages: [{ role: "user", content: "f" }],
  });

  const gemini = JSON.stringify({ contents: [{ parts: [{ text: "g" }] }] });
  // Every place a client may put its key at once: all of them must be stripped.
  const everywhere = {
    "x-goog-api-key": key.secret,
    "x-api-key": key.secret,
    "api-key": key.secret,
    authorization: `Bearer ${key.secret}`,
  };
  for (const res of [
    await post(`/v1beta/models/${MODELS.gemini}:generateContent?key=${key.secret}`, gemini, everywhere),
    await post(`/v1beta/models/${MODELS.gemini}:streamGenerateContent?alt=sse&key=${key.secret}`, gemini, {}),
    await post("/api/chat", JSON.stringify({ model: MODELS.ollama, messages: [] }), everywhere),
    await post("/api/generate", JSON.stringify({ model: MODELS.ollama, prompt: "h", stream: false }), {
      authorization: `Bearer ${key.secret}`,
    }),
  ]) {
    expect(res.status).toBe(200);
    await res.text();
  }
}

describe("credential swap", () => {
  it("every family's upstream receives the real credential and never the virtual key", async () => {
    const key = await issueKey(env.admin);
    await callEveryFamily(key);

    const seen = new Set(env.fake.requests.map((r) => r.route));
    for (const route of [
      "openai.chat",
      "openai.embeddings",
      "openai.responses",
      "anthropic.messages",
      "anthropic.count_tokens",
      "google.generate",
      "ollama.chat",
      "ollama.generate",
    ] as const) {
      expect(seen.has(route), `no ${route} request reached the upstream`).toBe(true);
    }
    for (const r of env.fake.requests) {
      expect(requestText(r)).not.toContain(key.secret);
      switch (r.family) {
        case "openai":
          expect(r.headers.authorization).toBe(`Bearer ${env.creds.openai}`);
          break;
        case "anthropic":
          expect(r.headers["x-api-key"]).toBe(env.creds.anthropic);
          // The SDK sent the virtual key as Authorization: Bearer; nothing of it may remain.
          expect(r.headers.authorization).toBeUndefined();
          break;
        case "google":
          expect(r.headers["x-goog-api-key"]).toBe(env.creds.google);
          expect(r.query.key).toBeUndefined();
          expect(r.headers.authorization).toBeUndefined();
          break;
        case "ollama":
          expect(r.headers.authorization).toBe(`Bearer ${env.creds.ollama}`);
          break;
      }
      expect(r.headers["api-key"]).toBeUndefined();
    }
  });

  it("anthropic-version and anthropic-beta chosen by the client reach the upstream unchanged", async () => {
    const key = await issueKey(env.admin);
    const body = JSON.stringify({
      model: MODELS.anthropic,
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
    });
    const res = await post("/v1/messages", body, {
      "x-api-key": key.secret,
      "anthropic-version": "2023-01-01",
      "anthropic-beta": "prompt-caching-2024-07-31,token-efficient-tools-2025-02-19",
    });
    expect(res.status).toBe(200);
    await res.text();
    const up = lastRequest(env.fake);
    expect(up.headers["anthropic-version"]).toBe("2023-01-01");
    expect(up.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31,token-efficient-tools-2025-02-19");

    // Whatever version the SDK itself sends travels on too.
    let sdkVersion: string | null = null;
    const sdk = new Anthropic({
      baseURL: env.gw.url,
      apiKey: key.secret,
      maxRetries: 0,
      defaultHeaders: { "anthropic-beta": "output-128k-2025-02-19" },
      fetch: (input, init) => {
        sdkVersion = new Headers(init?.headers).get("anthropic-version");
        return fetch(input, init);
      },
    });
    await sdk.messages.create({
      model: MODELS.anthropic,
      max_tokens: 16,
      messages: [{ role: "user", content: "x" }],
    });
    expect(sdkVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const fromSdk = lastRequest(env.fake);
    expect(fromSdk.headers["anthropic-version"]).toBe(sdkVersion);
    expect(fromSdk.headers["anthropic-beta"]).toBe("output-128k-2025-02-19");
  });

  it("a request that needs no change is forwarded byte for byte", async () => {
    const key = await issueKey(env.admin);
    const raw = `{ "messages" : [ {"role":"user","content":"spacing\\u0021 stays"} ],\n  "model":"${MODELS.openai}" , "temperature": 0.50 }`;
    const res = await post("/v1/chat/completions", raw, { authorization: `Bearer ${key.secret}` });
    expect(res.status).toBe(200);
    await res.text();
    expect(lastRequest(env.fake).raw).toBe(raw);

    const anthropicRaw = `{"model":"${MODELS.anthropic}","stream":true,   "max_tokens":16,"messages":[{"role":"user","content":"é ü"}]}`;
    const streamed = await post("/v1/messages", anthropicRaw, {
      "x-api-key": key.secret,
      "anthropic-version": "2023-06-01",
    });
    expect(streamed.status).toBe(200);
    await streamed.text();
    expect(lastRequest(env.fake).raw).toBe(anthropicRaw);
  });

  it("keygate's own x-keygate-* headers stay at the gateway", async () => {
    const key = await issueKey(env.admin);
    const body = JSON.stringify({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] });
    const res = await post("/v1/chat/completions", body, {
      authorization: `Bearer ${key.secret}`,
      "x-keygate-tag": "production",
      "x-keygate-debug": "1",
      "x-client-trace": "kept",
    });
    expect(res.status).toBe(200);
    await res.text();
    const up = lastRequest(env.fake);
    expect(Object.keys(up.headers).filter((h) => h.startsWith("x-keygate-"))).toEqual([]);
    // Other client headers do travel.
    expect(up.headers["x-client-trace"]).toBe("kept");
  });

  it("client cookies are not forwarded upstream", async () => {
    const key = await issueKey(env.admin);
    const body = JSON.stringify({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] });
    const res = await post("/v1/chat/completions", body, {
      authorization: `Bearer ${key.secret}`,
      cookie: "dashboard_session=secret-session-value; theme=dark",
    });
    expect(res.status).toBe(200);
    await res.text();
    const up = lastRequest(env.fake);
    expect(up.headers.cookie).toBeUndefined();
    expect(requestText(up)).not.toContain("secret-session-value");
  });

  it("headers the client's Connection header lists stay at the gateway", async () => {
    const key = await issueKey(env.admin);
    const body = JSON.stringify({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] });
    // fetch and undici refuse to send such a Connection header; node:http sends what it is given.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${env.gw.url}/v1/chat/completions`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${key.secret}`,
            "content-type": "application/json",
            connection: "keep-alive, X-Client-Hop",
            "x-client-hop": "for-keygate-only",
            "proxy-connection": "keep-alive",
            "x-client-trace": "kept",
          },
        },
        (res) => {
          res.resume();
          res.once("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.once("error", reject);
      req.end(body);
    });
    expect(status).toBe(200);
    const up = lastRequest(env.fake);
    expect(up.headers["x-client-hop"]).toBeUndefined();
    expect(up.headers["proxy-connection"]).toBeUndefined();
    expect(up.headers["x-client-trace"]).toBe("kept");
  });

  it("headers the upstream's Connection header lists are not passed back to the client", async () => {
    const key = await issueKey(env.admin);
    // Asked directly, the upstream does send it.
    const direct = await fetch(`${cookieUpstream.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: COOKIE_MODEL, messages: [] }),
    });
    expect(direct.headers.get(UPSTREAM_HOP_HEADER)).toBe("for-keygate-only");
    await direct.text();

    const body = JSON.stringify({ model: COOKIE_MODEL, messages: [{ role: "user", content: "hi" }] });
    const res = await post("/v1/chat/completions", body, { authorization: `Bearer ${key.secret}` });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get(UPSTREAM_HOP_HEADER)).toBeNull();
  });

  it("an upstream set-cookie is not passed back to the client", async () => {
    const key = await issueKey(env.admin);
    // Asked directly, the upstream does set its cookie.
    const direct = await fetch(`${cookieUpstream.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: COOKIE_MODEL, messages: [] }),
    });
    expect(direct.headers.getSetCookie()).toEqual([UPSTREAM_COOKIE]);
    await direct.text();

    const body = JSON.stringify({ model: COOKIE_MODEL, messages: [{ role: "user", content: "hi" }] });
    const res = await post("/v1/chat/completions", body, { authorization: `Bearer ${key.secret}` });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(cookieUpstream.requests.at(-1)?.authorization).toBe(`Bearer ${COOKIE_CREDENTIAL}`);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("keygate's x-request-id is the only one on the answer, even when the upstream names its own", async () => {
    const key = await issueKey(env.admin);
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
    const call = client.chat.completions.create({
      model: COOKIE_MODEL,
      messages: [{ role: "user", content: "hi" }],
    });
    const { response } = await call.withResponse();
    const data = await call;
    const [record] = await waitForRecords(env.admin, key.instanceId, 1);
    expect((await listRecords(env.admin, key.instanceId)).map((r) => r.id)).toEqual([record!.id]);
    expect(response.headers.get("x-request-id")).toBe(record!.id);
    expect(data._request_id).toBe(record!.id);
    expect(response.headers.get("x-request-id")).not.toContain(UPSTREAM_REQUEST_ID);
  });
});
