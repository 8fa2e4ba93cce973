// Secrets stay sealed, and refusals come in the client's own error format.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closedPort } from "./relay.js";
import {
  ATTEMPTS,
  dump,
  ENV_NAMES,
  issueKey,
  MODELS,
  startFacade,
  waitForRecords,
  type FacadeEnv,
} from "./harness.js";

let env: FacadeEnv;
const DEAD_MODEL = "gpt-dead-end";

/** Every response a client received in this file: status line, headers and full body. */
const seen: Promise<string>[] = [];

/** A fetch that keeps a copy of every response (streams included) for the secret scan. */
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const copy = res.clone();
  seen.push(
    copy.text().then(
      (body) => `${copy.status}\n${dump([...copy.headers.entries()])}\n${body}`,
      (err: unknown) => `unreadable: ${String(err)}`,
    ),
  );
  return res;
};

beforeAll(async () => {
  const port = await closedPort();
  env = await startFacade({
    providers: () => ({
      dead: {
        type: "openai",
        apiKey: `\${${ENV_NAMES.openai}}`,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        models: [DEAD_MODEL],
      },
    }),
  });
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.resetFake());

function openai(secret: string): OpenAI {
  return new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: secret, maxRetries: 0, fetch: recordingFetch });
}
function anthropic(secret: string): Anthropic {
  return new Anthropic({ baseURL: env.gw.url, apiKey: secret, maxRetries: 0, fetch: recordingFetch });
}
function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return recordingFetch(`${env.gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Runs `fn`, which must throw; returns what it threw. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

/** Prompt text that must stay out of the logs (logging.includePrompts is false by default). */
const PROMPT = `confidential-prompt-${Math.random().toString(36).slice(2)}`;
const chat = { model: MODELS.openai, messages: [{ role: "user" as const, content: PROMPT }] };
const message = {
  model: MODELS.anthropic,
  max_tokens: 16,
  messages: [{ role: "user" as const, content: "hi" }],
};

describe("refusals in the client's own format", () => {
  it("a revoked key gets 401: AuthenticationError from both SDKs", async () => {
    const key = await issueKey(env.admin);
    await openai(key.secret).chat.completions.create(chat);
    await env.admin.revokeKey({ id: key.keyId });

    const oe = await thrown(() => openai(key.secret).chat.completions.create(chat));
    expect(oe).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((oe as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    expect((oe as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");

    const ae = await thrown(() => anthropic(key.secret).messages.create(message));
    expect(ae).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((ae as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe("authentication_error");

    // Only the request made before the revocation reached the upstream.
    expect(env.fake.requests).toHaveLength(1);
  });

  it("a missing key gets 401 in the family's shape", async () => {
    const o = await post("/v1/chat/completions", chat);
    expect(o.status).toBe(401);
    expect(await o.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_api_key" },
    });

    const a = await post("/v1/messages", message, { "anthropic-version": "2023-06-01" });
    expect(a.status).toBe(401);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });

    const g = await post(`/v1beta/models/${MODELS.gemini}:generateContent`, { contents: [] });
    expect(g.status).toBe(401);
    expect(await g.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });

    const l = await post("/api/chat", { model: MODELS.ollama, messages: [] });
    expect(l.status).toBe(401);
    expect(typeof ((await l.json()) as { error?: unknown }).error).toBe("string");

    const wrong = await thrown(() => openai("kg_live_not-a-real-key").chat.completions.create(chat));
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(env.fake.requests).toHaveLength(0);
  });

  it("a model the key may not use gets 403 from both SDKs", async () => {
    const key = await issueKey(env.admin, { allowedModels: [MODELS.openaiMini] });
    const oe = await thrown(() => openai(key.secret).chat.completions.create(chat));
    expect(oe).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((oe as InstanceType<typeof OpenAI.PermissionDeniedError>).status).toBe(403);

    const ae = await thrown(() => anthropic(key.secret).messages.create(message));
    expect(ae).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((ae as InstanceType<typeof Anthropic.PermissionDeniedError>).type).toBe("permission_error");

    // The allowed model still works with the same key.
    const ok = await openai(key.secret).chat.completions.create({ ...chat, model: MODELS.openaiMini });
    expect(ok.model).toBe(MODELS.openaiMini);
    expect(env.fake.requests).toHaveLength(1);
  });

  it("model listings refuse a missing or revoked key in the family's shape", async () => {
    const o = await recordingFetch(`${env.gw.url}/v1/models`);
    expect(o.status).toBe(401);
    expect(await o.json()).toMatchObject({ error: { code: "invalid_api_key" } });

    const key = await issueKey(env.admin);
    await env.admin.revokeKey({ id: key.keyId });
    const a = await recordingFetch(`${env.gw.url}/v1/models`, {
      headers: { "x-api-key": key.secret, "anthropic-version": "2023-06-01" },
    });
    expect(a.status).toBe(401);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });

  it("an unknown model gets 404 with OpenAI's model_not_found", async () => {
    const key = await issueKey(env.admin);
    const err = await thrown(() =>
      openai(key.secret).chat.completions.create({ ...chat, model: "no-such-model-anywhere" }),
    );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    expect(env.fake.requests).toHaveLength(0);
  });

  it("error responses also carry x-request-id and x-keygate-overhead-ms", async () => {
    const key = await issueKey(env.admin, { allowedModels: [MODELS.openaiMini] });
    const cases: [string, Promise<Response>][] = [
      ["missing key", post("/v1/chat/completions", chat)],
      ["forbidden model", post("/v1/chat/completions", chat, { authorization: `Bearer ${key.secret}` })],
      ["bad JSON", post("/v1/chat/completions", "{not json", { authorization: `Bearer ${key.secret}` })],
    ];
    for (const [name, pending] of cases) {
      const res = await pending;
      await res.text();
      expect(res.status, name).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("x-request-id"), `${name}: x-request-id`).toMatch(/\S/);
      expect(res.headers.get("x-keygate-overhead-ms"), `${name}: x-keygate-overhead-ms`).not.toBeNull();
    }
  });
});

describe("secrets never leak", () => {
  it("the sentinel credentials and virtual keys appear in no response, log line or Admin API answer", async () => {
    const key = await issueKey(env.admin);
    const revoked = await issueKey(env.admin);
    await env.admin.revokeKey({ id: revoked.keyId });

    // Successes in every family, streamed and not.
    const o = openai(key.secret);
    await o.chat.completions.create(chat);
    for await (const c of await o.chat.completions.create({ ...chat, stream: true })) void c;
    await o.embeddings.create({ model: MODELS.embedding, input: "x" });
    const a = anthropic(key.secret);
    await a.messages.create(message);
    await a.messages.stream(message).finalMessage();
    const g = await post(`/v1beta/models/${MODELS.gemini}:generateContent?key=${key.secret}`, {
      contents: [{ parts: [{ text: "hi" }] }],
    });
    expect(g.status).toBe(200);
    const l = await post(
      "/api/chat",
      { model: MODELS.ollama, messages: [] },
      { authorization: `Bearer ${key.secret}` },
    );
    expect(l.status).toBe(200);
    await Promise.all([g.text(), l.text()]);

    // Failures: unreachable provider, upstream errors, refusals.
    const dead = await thrown(() => o.chat.completions.create({ ...chat, model: DEAD_MODEL }));
    expect(dead).toBeInstanceOf(OpenAI.APIError);
    expect((dead as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((dead as Error).message).toContain("dead");
    env.fake.fail({ status: 500, on: "openai.chat", times: ATTEMPTS });
    await thrown(() => o.chat.completions.create(chat));
    env.fake.fail({ status: 401, on: "anthropic.messages" });
    await thrown(() => a.messages.create(message));
    await thrown(() => openai(revoked.secret).chat.completions.create(chat));
    await thrown(() => o.chat.completions.create({ ...chat, model: "unknown-model-x" }));
    const bad = await post("/v1/messages", "{oops", { "x-api-key": key.secret });
    expect(bad.status).toBe(400);

    const records = await waitForRecords(env.admin, key.instanceId, 12);
    const one = records[0]!;

    const secrets = [...Object.values(env.creds), key.secret, revoked.secret, env.gw.adminToken];
    const responses = await Promise.all(seen);
    expect(responses.length).toBeGreaterThan(10);

    const adminAnswers = dump([
      await env.admin.listProviders({}),
      ...(await Promise.all(
        ["openai", "anthropic", "google", "ollama", "dead"].map((id) => env.admin.getProvider({ id })),
      )),
      await env.admin.probeProviders({}).catch((err: unknown) => String(err)),
      await env.admin.listRequests({ pageSize: 1000 }),
      await env.admin.getRequest({ id: one.id }),
      await env.admin.queryUsage({}),
      await env.admin.listKeys({ includeRevoked: true }),
      await env.admin.getKey({ id: key.keyId }),
      await env.admin.listInstances({}),
      await env.admin.listAuditEvents({ pageSize: 1000 }),
      await env.admin.getStatus({}),
      await env.admin.listRoutes({}),
    ]);
    const logs = await env.gw.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain(one.id);
    expect(logs.includes(PROMPT), "a prompt was logged with includePrompts off").toBe(false);

    for (const secret of secrets) {
      for (const r of responses)
        expect(r.includes(secret), `a response contains ${secret.slice(0, 16)}…`).toBe(false);
      expect(adminAnswers.includes(secret), `an Admin API answer contains ${secret.slice(0, 16)}…`).toBe(
        false,
      );
      expect(logs.includes(secret), `the log contains ${secret.slice(0, 16)}…`).toBe(false);
    }
    // The real credentials themselves also never show in part (e.g. a provider's error echoing them).
    for (const c of Object.values(env.creds)) {
      const tail = c.slice(-12);
      for (const r of responses) expect(r.includes(tail)).toBe(false);
      expect(logs.includes(tail)).toBe(false);
      expect(adminAnswers.includes(tail)).toBe(false);
    }
  });
});
