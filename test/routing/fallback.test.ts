// The setup guide's fallback chain anthropic → openai → ollama: when the first provider fails
// (rate limit, server error, timeout, refused connection) the request moves on to the next one,
// the client gets a normal answer in its own wire format, and the usage record lists every attempt.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import {
  anthropicClient,
  attemptsOf,
  closedPort,
  issueKey,
  MODELS,
  openaiClient,
  provider,
  requestIdOf,
  startRoutingGateway,
  waitForRecord,
  type IssuedKey,
  type RoutingGateway,
} from "./harness.js";

const ANSWER = answerText(DEFAULT_PIECES);
/** The first provider answers headers within this, or the attempt is a timeout. */
const FIRST_BYTE_MS = 1000;

interface Chain {
  gw: RoutingGateway;
  anthropic: FakeUpstream;
  openai: FakeUpstream;
  ollama: FakeUpstream;
  key: IssuedKey;
}

/** The guide's chain with retries off (maxAttempts 1) and a breaker that never opens here. */
async function startChain(anthropicBaseUrl?: (fake: FakeUpstream) => Promise<string>): Promise<Chain> {
  const [anthropic, openai, ollama] = await Promise.all([
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
  ]);
  const baseUrl = anthropicBaseUrl ? await anthropicBaseUrl(anthropic) : anthropic.url;
  const gw = await startRoutingGateway({
    providers: {
      anthropic: provider("anthropic", anthropic.url, [MODELS.anthropic], {
        baseUrl,
        timeouts: { firstByteMs: FIRST_BYTE_MS },
      }),
      openai: provider("openai", openai.url, [MODELS.openai]),
      ollama: provider("ollama", ollama.url, [MODELS.ollama]),
    },
    routing: {
      strategy: "fallback",
      chain: ["anthropic", "openai", "ollama"],
      retry: { maxAttempts: 1 },
      breaker: { failureThreshold: 1000 },
    },
  });
  const key = await issueKey(gw.admin);
  return { gw, anthropic, openai, ollama, key };
}

async function closeChain(c: Chain | undefined): Promise<void> {
  if (!c) return;
  await c.gw.dispose();
  await Promise.all([c.anthropic.close(), c.openai.close(), c.ollama.close()]);
}

function resetFakes(c: Chain): void {
  for (const f of [c.anthropic, c.openai, c.ollama]) f.reset({ settings: true });
}

interface Failure {
  name: string;
  inject(fake: FakeUpstream): void;
  status: number;
  errorClass: string;
}

const FAILURES: Failure[] = [
  {
    name: "429 rate limit",
    inject: (f) => f.fail({ status: 429, on: "anthropic.messages" }),
    status: 429,
    errorClass: "upstream_rate_limited",
  },
  {
    name: "500 server error",
    inject: (f) => f.fail({ status: 500, on: "anthropic.messages" }),
    status: 500,
    errorClass: "upstream_error",
  },
  {
    name: "first-byte timeout",
    inject: (f) => f.hang({ on: "anthropic.messages" }),
    status: 0,
    errorClass: "upstream_timeout",
  },
];

/** Anthropic-format client: the answer comes from the OpenAI provider, translated back. */
async function viaAnthropicSdk(c: Chain): Promise<string> {
  const { data, response } = await anthropicClient(c.gw, c.key)
    .messages.create({
      model: MODELS.anthropic,
      max_tokens: 256,
      messages: [{ role: "user", content: "Say hello" }],
    })
    .withResponse();
  expect(data.type).toBe("message");
  expect(data.role).toBe("assistant");
  expect(data.content).toEqual([expect.objectContaining({ type: "text", text: ANSWER })]);
  expect(data.stop_reason).toBe("end_turn");
  return requestIdOf(response.headers);
}

/** OpenAI-format client asking for the Claude model: Anthropic (translated) first, then OpenAI. */
async function viaOpenAISdk(c: Chain): Promise<string> {
  const { data, response } = await openaiClient(c.gw, c.key)
    .chat.completions.create({ model: MODELS.anthropic, messages: [{ role: "user", content: "Say hello" }] })
    .withResponse();
  expect(data.object).toBe("chat.completion");
  expect(data.choices[0]?.message.content).toBe(ANSWER);
  expect(data.choices[0]?.finish_reason).toBe("stop");
  return requestIdOf(response.headers);
}

const CLIENTS = [
  { client: "@anthropic-ai/sdk", call: viaAnthropicSdk },
  { client: "openai SDK", call: viaOpenAISdk },
];

async function expectFellBackToOpenAI(
  c: Chain,
  requestId: string,
  failure: Omit<Failure, "name" | "inject">,
) {
  expect(c.anthropic.requests.filter((r) => r.route === "anthropic.messages")).toHaveLength(1);
  const upstream = c.openai.requests.filter((r) => r.route === "openai.chat");
  expect(upstream).toHaveLength(1);
  // OpenAI does not list the Claude model: the chain asks it for its own first model.
  expect(upstream[0]!.body).toMatchObject({ model: MODELS.openai });
  expect(c.ollama.requests).toHaveLength(0);

  const rec = await waitForRecord(c.gw.admin, requestId);
  expect(rec.statusCode).toBe(200);
  expect(rec.errorClass).toBe("");
  expect(rec.fallback).toBe(true);
  expect(rec.providerId).toBe("openai");
  expect(rec.requestedModel).toBe(MODELS.anthropic);
  expect(rec.servedModel).toBe(MODELS.openai);
  expect(attemptsOf(rec)).toEqual([
    { provider: "anthropic", status: failure.status, errorClass: failure.errorClass },
    { provider: "openai", status: 200, errorClass: "" },
  ]);
  return rec;
}

describe("fallback chain anthropic → openai → ollama", () => {
  let c: Chain;
  beforeAll(async () => {
    c = await startChain();
  });
  afterAll(() => closeChain(c));
  beforeEach(() => resetFakes(c));

  for (const { client, call } of CLIENTS) {
    for (const failure of FAILURES) {
      it(`${client}: anthropic fails with ${failure.name} → answered by openai`, async () => {
        failure.inject(c.anthropic);
        const id = await call(c);
        const rec = await expectFellBackToOpenAI(c, id, failure);
        if (failure.errorClass === "upstream_timeout") {
          expect(rec.attempts[0]!.latencyMs).toBeGreaterThanOrEqual(FIRST_BYTE_MS * 0.9);
        }
      });
    }
  }

  it("openai SDK streaming: the fallback happens before the first byte, the stream is whole", async () => {
    c.anthropic.fail({ status: 529, on: "anthropic.messages" });
    const { data: stream, response } = await openaiClient(c.gw, c.key)
      .chat.completions.create({
        model: MODELS.anthropic,
        messages: [{ role: "user", content: "Say hello" }],
        stream: true,
      })
      .withResponse();
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(ANSWER);
    expect(finish).toBe("stop");
    await expectFellBackToOpenAI(c, requestIdOf(response.headers), {
      status: 529,
      errorClass: "upstream_error",
    });
  });

  it("anthropic and openai both fail → the local ollama answers as the last resort", async () => {
    c.anthropic.fail({ status: 500, on: "anthropic.messages" });
    c.openai.fail({ status: 503, on: "openai.chat" });
    const id = await viaAnthropicSdk(c);
    expect(c.ollama.requests.filter((r) => r.route === "ollama.chat")).toHaveLength(1);
    const rec = await waitForRecord(c.gw.admin, id);
    expect(rec.fallback).toBe(true);
    expect(rec.providerId).toBe("ollama");
    expect(attemptsOf(rec)).toEqual([
      { provider: "anthropic", status: 500, errorClass: "upstream_error" },
      { provider: "openai", status: 503, errorClass: "upstream_error" },
      { provider: "ollama", status: 200, errorClass: "" },
    ]);
  });

  it("every provider fails → the last upstream error, in the client's own format", async () => {
    c.anthropic.fail({ status: 500, on: "anthropic.messages" });
    c.openai.fail({ status: 429, on: "openai.chat" });
    c.ollama.fail({ status: 503, on: "ollama.chat" });
    const err = await anthropicClient(c.gw, c.key)
      .messages.create({
        model: MODELS.anthropic,
        max_tokens: 256,
        messages: [{ role: "user", content: "Say hello" }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(503);
    // Ollama's `{ "error": "..." }` re-shaped as Anthropic's error body, its message kept.
    expect(e.error).toMatchObject({ type: "error", error: { type: expect.any(String) } });
    expect(JSON.stringify(e.error)).toContain("server busy");
    const id = e.headers?.get("x-request-id");
    if (!id) throw new Error("the error carries no x-request-id");
    const rec = await waitForRecord(c.gw.admin, id);
    expect(rec.statusCode).toBe(503);
    expect(rec.fallback).toBe(true);
    expect(attemptsOf(rec).map((a) => `${a.provider}:${a.status}`)).toEqual([
      "anthropic:500",
      "openai:429",
      "ollama:503",
    ]);
  });

  it("a healthy first provider answers alone: no fallback recorded", async () => {
    const id = await viaAnthropicSdk(c);
    expect(c.openai.requests).toHaveLength(0);
    const rec = await waitForRecord(c.gw.admin, id);
    expect(rec.fallback).toBe(false);
    expect(attemptsOf(rec)).toEqual([{ provider: "anthropic", status: 200, errorClass: "" }]);
  });
});

describe("fallback chain with anthropic refusing connections", () => {
  let c: Chain;
  beforeAll(async () => {
    c = await startChain(async () => `http://127.0.0.1:${await closedPort()}`);
  });
  afterAll(() => closeChain(c));
  beforeEach(() => resetFakes(c));

  for (const { client, call } of CLIENTS) {
    it(`${client}: connection refused → answered by openai`, async () => {
      const id = await call(c);
      const upstream = c.openai.requests.filter((r) => r.route === "openai.chat");
      expect(upstream).toHaveLength(1);
      const rec = await waitForRecord(c.gw.admin, id);
      expect(rec.statusCode).toBe(200);
      expect(rec.fallback).toBe(true);
      expect(rec.providerId).toBe("openai");
      expect(attemptsOf(rec)).toEqual([
        { provider: "anthropic", status: 0, errorClass: "upstream_unreachable" },
        { provider: "openai", status: 200, errorClass: "" },
      ]);
    });
  }
});
