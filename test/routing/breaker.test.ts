// The circuit breaker per provider: after `failureThreshold` failures it opens and requests skip
// the provider (its upstream sees nothing, the fallback answers); after the cool-down one half-open
// probe goes through; a failed probe opens it again, a successful one closes it. Every wait is on
// a real condition (ListProviders, the fake's requests) under a deadline.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import { BreakerState, type BreakerStatus } from "../../sdk/index.js";
import {
  anthropicClient,
  attemptsOf,
  issueKey,
  MODELS,
  openaiClient,
  poll,
  provider,
  providerView,
  requestIdOf,
  startRoutingGateway,
  waitForRecord,
  type IssuedKey,
  type RoutingGateway,
} from "./harness.js";

const COOLDOWN_MS = 1500;
const BACKUP_MODEL = "gpt-4o-mini";

let flaky: FakeUpstream;
let backup: FakeUpstream;
let gw: RoutingGateway;
let key: IssuedKey;

beforeAll(async () => {
  [flaky, backup] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  gw = await startRoutingGateway({
    providers: {
      flaky: provider("openai", flaky.url, [MODELS.openai]),
      backup: provider("openai", backup.url, [BACKUP_MODEL]),
    },
    routing: {
      strategy: "fallback",
      chain: ["flaky", "backup"],
      retry: { maxAttempts: 1 },
      breaker: { failureThreshold: 3, windowMs: 60_000, cooldownMs: COOLDOWN_MS },
    },
  });
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.dispose();
  await Promise.all([flaky?.close(), backup?.close()]);
});

const chatCalls = (f: FakeUpstream): number => f.requests.filter((r) => r.route === "openai.chat").length;

/** One chat request; the client always gets an answer (from flaky or from backup). */
async function ask(): Promise<string> {
  const { data, response } = await openaiClient(gw, key)
    .chat.completions.create({ model: MODELS.openai, messages: [{ role: "user", content: "Say hello" }] })
    .withResponse();
  expect(data.choices[0]!.message.content).toBe(answerText(DEFAULT_PIECES));
  return requestIdOf(response.headers);
}

async function breaker(id = "flaky"): Promise<BreakerStatus> {
  const b = (await providerView(gw.admin, id)).breaker;
  if (!b) throw new Error(`ListProviders shows no breaker for ${id}`);
  return b;
}

function waitForState(state: BreakerState, timeoutMs = 5000): Promise<BreakerStatus> {
  return poll(
    `flaky's breaker to be ${BreakerState[state]}`,
    async () => {
      const b = await breaker();
      return b.state === state ? b : undefined;
    },
    timeoutMs,
  );
}

function openedAt(b: BreakerStatus): number {
  if (!b.openedAt) throw new Error("an open breaker has no opened_at");
  return timestampDate(b.openedAt).getTime();
}

describe("circuit breaker (failureThreshold 3, cool-down 1.5 s)", () => {
  it("opens after 3 failures, skips the provider while open, probes once half-open, closes on recovery", async () => {
    flaky.fail({ status: 500, on: "openai.chat", times: Infinity });

    // Below the threshold the provider is still tried on every request.
    for (let i = 1; i <= 2; i++) {
      const rec = await waitForRecord(gw.admin, await ask());
      expect(attemptsOf(rec)).toEqual([
        { provider: "flaky", status: 500, errorClass: "upstream_error" },
        { provider: "backup", status: 200, errorClass: "" },
      ]);
      expect(rec.fallback).toBe(true);
    }
    expect(chatCalls(flaky)).toBe(2);
    expect(await breaker()).toMatchObject({ state: BreakerState.CLOSED, recentFailures: 2 });

    // The third failure opens it.
    await ask();
    expect(chatCalls(flaky)).toBe(3);
    const open = await breaker();
    expect(open.state).toBe(BreakerState.OPEN);
    expect(open.recentFailures).toBe(3);
    const firstOpen = openedAt(open);
    expect(open.retryAt && timestampDate(open.retryAt).getTime() - firstOpen).toBe(COOLDOWN_MS);
    expect((await breaker("backup")).state).toBe(BreakerState.CLOSED);

    // While open: flaky's upstream sees nothing, backup answers alone.
    const skippedIds = [await ask(), await ask()];
    expect((await breaker()).state).toBe(BreakerState.OPEN);
    expect(chatCalls(flaky)).toBe(3);
    for (const id of skippedIds) {
      const rec = await waitForRecord(gw.admin, id);
      expect(attemptsOf(rec)).toEqual([{ provider: "backup", status: 200, errorClass: "" }]);
      expect(rec.providerId).toBe("backup");
      expect(rec.servedModel).toBe(BACKUP_MODEL);
    }

    // After the cool-down one probe goes through; it fails, so the breaker opens again.
    await waitForState(BreakerState.HALF_OPEN);
    expect(Date.now() - firstOpen).toBeGreaterThanOrEqual(COOLDOWN_MS);
    const probeId = await ask();
    expect(chatCalls(flaky)).toBe(4);
    expect(attemptsOf(await waitForRecord(gw.admin, probeId))).toEqual([
      { provider: "flaky", status: 500, errorClass: "upstream_error" },
      { provider: "backup", status: 200, errorClass: "" },
    ]);
    const reopened = await breaker();
    expect(reopened.state).toBe(BreakerState.OPEN);
    expect(openedAt(reopened)).toBeGreaterThan(firstOpen);
    await ask();
    expect(chatCalls(flaky)).toBe(4);

    // The upstream recovers: the next probe succeeds and closes the breaker.
    flaky.reset();
    await waitForState(BreakerState.HALF_OPEN);
    const recoveredId = await ask();
    expect(chatCalls(flaky)).toBe(1);
    const recovered = await waitForRecord(gw.admin, recoveredId);
    expect(attemptsOf(recovered)).toEqual([{ provider: "flaky", status: 200, errorClass: "" }]);
    expect(recovered.fallback).toBe(false);
    expect(await breaker()).toMatchObject({ state: BreakerState.CLOSED, recentFailures: 0 });

    // Closed again: traffic is back on flaky.
    await ask();
    expect(chatCalls(flaky)).toBe(2);
  });

  it("half-open admits exactly one probe among concurrent requests", async () => {
    flaky.reset();
    backup.reset();
    flaky.fail({ status: 503, on: "openai.chat", times: 3 });
    for (let i = 0; i < 3; i++) await ask();
    expect((await breaker()).state).toBe(BreakerState.OPEN);

    // The probe is slow, so the other requests arrive while it is still in flight.
    flaky.delay(500, { on: "openai.chat" });
    await waitForState(BreakerState.HALF_OPEN);
    const ids = await Promise.all([ask(), ask(), ask(), ask()]);
    expect(chatCalls(flaky)).toBe(4);
    const records = await Promise.all(ids.map((id) => waitForRecord(gw.admin, id)));
    expect(records.filter((r) => r.providerId === "flaky")).toHaveLength(1);
    expect(records.filter((r) => r.providerId === "backup")).toHaveLength(3);
    expect(await breaker()).toMatchObject({ state: BreakerState.CLOSED, recentFailures: 0 });
  });
});

describe("circuit breaker with no other provider to fall back to", () => {
  let solo: FakeUpstream;
  let g: RoutingGateway;
  let k: IssuedKey;
  beforeAll(async () => {
    solo = await startFakeUpstream();
    g = await startRoutingGateway({
      providers: { solo: provider("anthropic", solo.url, [MODELS.anthropic]) },
      routing: {
        retry: { maxAttempts: 1 },
        breaker: { failureThreshold: 3, windowMs: 60_000, cooldownMs: 60_000 },
      },
    });
    k = await issueKey(g.admin);
  });
  afterAll(async () => {
    await g?.dispose();
    await solo?.close();
  });

  it("while open the request is refused at once with a 503 in the client's format; upstream untouched", async () => {
    solo.fail({ status: 500, on: "anthropic.messages", times: Infinity });
    const send = () =>
      anthropicClient(g, k)
        .messages.create({
          model: MODELS.anthropic,
          max_tokens: 100,
          messages: [{ role: "user", content: "Say hello" }],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    for (let i = 0; i < 3; i++) expect((await send()) as { status?: number }).toMatchObject({ status: 500 });
    expect(solo.requests).toHaveLength(3);

    const err = await send();
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(503);
    expect(e.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(e.message).toMatch(/circuit open|temporarily unavailable/i);
    expect(solo.requests).toHaveLength(3);
    const id = e.headers?.get("x-request-id");
    if (!id) throw new Error("the refusal carries no x-request-id");
    const rec = await waitForRecord(g.admin, id);
    expect(rec.statusCode).toBe(503);
    expect(rec.attempts).toHaveLength(0);
  });
});
