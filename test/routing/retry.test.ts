// Retries on the same target: an upstream's Retry-After is honoured when it is within
// routing.retry.maxRetryAfterMs, and a longer one is not waited for (the next target is tried at
// once). Without Retry-After, failures are retried with backoff until maxAttempts, then passed on.
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import { readStreamWithoutUsage } from "../helpers/openai-stream.js";
import {
  attemptsOf,
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

const MAX_RETRY_AFTER_MS = 2000;
const SECONDARY_MODEL = "gpt-4o-mini";

let primary: FakeUpstream;
let secondary: FakeUpstream;
let gw: RoutingGateway;
let key: IssuedKey;

beforeAll(async () => {
  [primary, secondary] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  gw = await startRoutingGateway({
    providers: {
      primary: provider("openai", primary.url, [MODELS.openai]),
      secondary: provider("openai", secondary.url, [SECONDARY_MODEL]),
    },
    routing: {
      strategy: "fallback",
      chain: ["primary", "secondary"],
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: MAX_RETRY_AFTER_MS },
      breaker: { failureThreshold: 1000 },
    },
  });
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.dispose();
  await Promise.all([primary?.close(), secondary?.close()]);
});
beforeEach(() => {
  primary.reset({ settings: true });
  secondary.reset({ settings: true });
});

const chatCalls = (f: FakeUpstream): number => f.requests.filter((r) => r.route === "openai.chat").length;

function ask() {
  return openaiClient(gw, key)
    .chat.completions.create({ model: MODELS.openai, messages: [{ role: "user", content: "Say hello" }] })
    .withResponse();
}

/** When the fake received its n-th request (0-based), observed from the fake's own event. */
function arrival(fake: FakeUpstream, n: number): Promise<number> {
  return fake.waitForRequest((r) => fake.requests.indexOf(r) === n).then(() => performance.now());
}

describe("retry with Retry-After (maxAttempts 2, maxRetryAfterMs 2 s)", () => {
  it("429 with Retry-After: 1 → the second attempt arrives ≥ 1 s after the first, the client gets 200", async () => {
    primary.fail({ status: 429, retryAfter: 1, on: "openai.chat" });
    const first = arrival(primary, 0);
    const second = arrival(primary, 1);
    const { data, response } = await ask();
    expect(data.choices[0]!.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(response.status).toBe(200);
    const gap = (await second) - (await first);
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(MAX_RETRY_AFTER_MS + 1000);
    expect(chatCalls(primary)).toBe(2);
    expect(chatCalls(secondary)).toBe(0);

    const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
    expect(attemptsOf(rec)).toEqual([
      { provider: "primary", status: 429, errorClass: "upstream_rate_limited" },
      { provider: "primary", status: 200, errorClass: "" },
    ]);
    expect(rec.fallback).toBe(false);
    expect(rec.statusCode).toBe(200);
    expect(rec.latencyMs).toBeGreaterThanOrEqual(950);
  });

  it("Retry-After above maxRetryAfterMs is not waited for: the next target answers at once", async () => {
    primary.fail({ status: 429, retryAfter: 30, on: "openai.chat" });
    const t0 = performance.now();
    const { data, response } = await ask();
    const elapsed = performance.now() - t0;
    expect(data.choices[0]!.message.content).toBe(answerText(DEFAULT_PIECES));
    expect(elapsed).toBeLessThan(MAX_RETRY_AFTER_MS);
    expect(chatCalls(primary)).toBe(1);
    expect(chatCalls(secondary)).toBe(1);
    expect(secondary.requests[0]!.body).toMatchObject({ model: SECONDARY_MODEL });

    const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
    expect(attemptsOf(rec)).toEqual([
      { provider: "primary", status: 429, errorClass: "upstream_rate_limited" },
      { provider: "secondary", status: 200, errorClass: "" },
    ]);
    expect(rec.fallback).toBe(true);
    expect(rec.providerId).toBe("secondary");
  });

  it("without Retry-After a 500 is retried with backoff on the same target", async () => {
    primary.fail({ status: 500, on: "openai.chat" });
    const { response } = await ask();
    expect(chatCalls(primary)).toBe(2);
    expect(chatCalls(secondary)).toBe(0);
    const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
    expect(attemptsOf(rec)).toEqual([
      { provider: "primary", status: 500, errorClass: "upstream_error" },
      { provider: "primary", status: 200, errorClass: "" },
    ]);
    expect(rec.fallback).toBe(false);
  });

  it("a stream that did not ask for usage gets no usage chunk after a retry or a fallback either", async () => {
    // Fails once: the retry on primary answers. Fails twice: maxAttempts is spent, secondary answers.
    for (const [times, secondaryCalls] of [
      [1, 0],
      [2, 1],
    ] as const) {
      primary.reset();
      secondary.reset();
      primary.fail({ status: 500, on: "openai.chat", times });
      const { data: stream, response } = await openaiClient(gw, key)
        .chat.completions.create({
          model: MODELS.openai,
          stream: true,
          messages: [{ role: "user", content: "Stream me something" }],
        })
        .withResponse();
      expect((await readStreamWithoutUsage(stream)).text).toBe(answerText(DEFAULT_PIECES));
      // Every attempt asked its upstream for usage on the client's behalf, and usage was recorded.
      const asked = [...primary.requests, ...secondary.requests].filter((r) => r.route === "openai.chat");
      expect(asked).toHaveLength(times + 1);
      for (const r of asked) expect(r.body).toMatchObject({ stream_options: { include_usage: true } });
      expect(chatCalls(primary)).toBe(2);
      expect(chatCalls(secondary)).toBe(secondaryCalls);
      const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
      expect(rec.statusCode).toBe(200);
      expect(rec.outputTokens).toBeGreaterThan(0);
    }
  });

  it("maxAttempts exhausted on one target → the next target", async () => {
    primary.fail({ status: 502, on: "openai.chat", times: 2 });
    const { response } = await ask();
    expect(chatCalls(primary)).toBe(2);
    expect(chatCalls(secondary)).toBe(1);
    const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
    expect(attemptsOf(rec)).toEqual([
      { provider: "primary", status: 502, errorClass: "upstream_error" },
      { provider: "primary", status: 502, errorClass: "upstream_error" },
      { provider: "secondary", status: 200, errorClass: "" },
    ]);
    expect(rec.fallback).toBe(true);
  });

  it("a 4xx that is not a rate limit is neither retried nor passed on", async () => {
    primary.fail({ status: 400, on: "openai.chat", message: "bad parameter" });
    const err = await ask().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("bad parameter");
    expect(chatCalls(primary)).toBe(1);
    expect(chatCalls(secondary)).toBe(0);
  });

  it("every target rate-limited → the client gets the 429 in its own format, with Retry-After", async () => {
    primary.fail({ status: 429, retryAfter: 30, on: "openai.chat" });
    secondary.fail({ status: 429, retryAfter: 40, on: "openai.chat" });
    const err = await ask().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.headers?.get("retry-after")).toBe("40");
    expect(e.code).toBe("rate_limit_exceeded");
    expect(chatCalls(primary)).toBe(1);
    expect(chatCalls(secondary)).toBe(1);
  });
});
