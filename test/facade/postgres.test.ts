// The SDK round trips and the record checks again, with a real Postgres server as the store
// (a fresh database per run) instead of embedded PGlite.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import pg from "pg";
import { BudgetWindow } from "../../sdk/index.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "../fakes/content.js";
import { createTestDatabase, postgresUrl, type TestDatabase } from "../helpers/pg.js";
import {
  ATTEMPTS,
  costOf,
  fullTokens,
  issueKey,
  listRecords,
  MODELS,
  PRICES,
  requestIdOf,
  startFacade,
  tokensOf,
  usageTotals,
  waitForRecord,
  waitForRecords,
  type FacadeEnv,
} from "./harness.js";

let db: TestDatabase | undefined;
let env: FacadeEnv;

beforeAll(async () => {
  // Postgres is part of the suite, not optional: say so plainly when it is not configured.
  if (!postgresUrl())
    throw new Error("TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)");
  db = await createTestDatabase("kg_facade");
  env = await startFacade({ databaseUrl: db.url });
});
afterAll(async () => {
  await env?.close();
  await db?.drop();
});
beforeEach(() => env.resetFake());

describe("façade on Postgres", () => {
  it("openai SDK round trips (plain and streamed) are recorded exactly", async () => {
    const key = await issueKey(env.admin);
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });

    env.fake.setUsage("openai", { input: 19, output: 8 });
    const { data, response } = await client.chat.completions
      .create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe(answerText(DEFAULT_PIECES));
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.providerId).toBe("openai");
    expect(rec.statusCode).toBe(200);
    expect(rec.stream).toBe(false);
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 19, output: 8 }));
    expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.openai]!, { input: 19, output: 8 }), 12);

    env.fake.setUsage("openai", { input: 70, output: 35 });
    const { data: stream, response: sres } = await client.chat.completions
      .create({ model: MODELS.openai, stream: true, messages: [{ role: "user", content: "stream" }] })
      .withResponse();
    let text = "";
    for await (const c of stream) {
      expect(c.usage ?? null).toBeNull();
      text += c.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe(answerText(DEFAULT_PIECES));
    const srec = await waitForRecord(env.admin, key.instanceId, requestIdOf(sres.headers));
    expect(srec.stream).toBe(true);
    expect(srec.ttfbMs).toBeDefined();
    expect(tokensOf(srec)).toEqual(fullTokens({ input: 70, output: 35 }));
  });

  it("an anthropic stream with cache tokens, and the QueryUsage totals", async () => {
    const key = await issueKey(env.admin);
    const client = new Anthropic({ baseURL: env.gw.url, apiKey: key.secret, maxRetries: 0 });
    const cached = { input: 40, output: 12, cacheRead: 100, cacheWrite: 25 };
    env.fake.setUsage("anthropic", cached);
    const stream = client.messages.stream({
      model: MODELS.anthropic,
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    const { response } = await stream.withResponse();
    const msg = await stream.finalMessage();
    expect(msg.usage.cache_read_input_tokens).toBe(100);
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(tokensOf(rec)).toEqual(fullTokens(cached));
    expect(rec.costUsd).toBeCloseTo(costOf(PRICES[MODELS.anthropic]!, cached), 12);

    env.fake.fail({ status: 503, on: "anthropic.messages", times: ATTEMPTS });
    await expect(
      client.messages.create({
        model: MODELS.anthropic,
        max_tokens: 8,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.InternalServerError);

    await waitForRecords(env.admin, key.instanceId, 2);
    const all = await listRecords(env.admin, key.instanceId);
    const totals = await usageTotals(env.admin, key.instanceId);
    expect(totals?.requests).toBe(2n);
    expect(totals?.errors).toBe(1n);
    expect(totals?.inputTokens).toBe(40n);
    expect(totals?.outputTokens).toBe(12n);
    expect(totals?.cacheReadTokens).toBe(100n);
    expect(totals?.cacheWriteTokens).toBe(25n);
    expect(totals?.costUsd).toBeCloseTo(
      all.reduce((s, r) => s + (r.costUsd ?? 0), 0),
      12,
    );
  });

  it("a revoked key is refused by the running gateway", async () => {
    const key = await issueKey(env.admin);
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
    await client.chat.completions.create({
      model: MODELS.openai,
      messages: [{ role: "user", content: "hi" }],
    });
    await env.admin.revokeKey({ id: key.keyId });
    // The revocation reaches the key cache through LISTEN/NOTIFY: within milliseconds, not at once
    // by contract, so the first refusal is awaited under a tight deadline.
    const deadline = Date.now() + 2000;
    let refusal: unknown;
    while (refusal === undefined && Date.now() < deadline) {
      refusal = await client.chat.completions
        .create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
    }
    expect(refusal).toBeInstanceOf(OpenAI.AuthenticationError);
    // Once refused, always refused.
    await expect(
      client.chat.completions.create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("a client that leaves while its request waits on the database gets no upstream call, and is recorded as having left", async () => {
    // A budget makes the key's first admission read its recorded spend from usage_records, after
    // the body was read; a lock on that table parks the request right there.
    const instanceId = `e2e-${randomUUID().slice(0, 8)}`;
    await env.admin.createInstance({ instanceId, instance: { displayName: "leaves early" } });
    const { secret } = await env.admin.createKey({
      instanceId,
      displayName: "e2e",
      budgets: [{ window: BudgetWindow.DAILY, limitUsd: 5 }],
    });
    const locker = new pg.Client({ connectionString: db!.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("lock table usage_records in access exclusive mode");

      const marker = `marker-${randomUUID()}`;
      const body = JSON.stringify({ model: MODELS.openai, messages: [{ role: "user", content: marker }] });
      const { hostname, port } = new URL(env.gw.url);
      const socket = connect(Number(port), hostname);
      const keygateEnded = new Promise<void>((resolve) => socket.once("end", resolve));
      socket.on("data", () => undefined);
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${secret}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );

      // keygate's spend lookup waits for the lock: the request is parked in its admission, its
      // body read.
      const deadline = Date.now() + 5000;
      let parked = 0;
      while (parked === 0 && Date.now() < deadline) {
        // A reader of usage_records waiting for the lock: the spend lookup (the usage writer
        // would want RowExclusiveLock).
        const r = await locker.query<{ n: number }>(
          `select count(*)::int as n from pg_locks
           where relation = 'usage_records'::regclass and mode = 'AccessShareLock' and not granted`,
        );
        parked = r.rows[0]!.n;
      }
      expect(parked).toBe(1);
      // The client leaves. keygate closes its end once it has seen the client's end closed; only
      // then is the lock released.
      socket.end();
      await keygateEnded;
      await locker.query("commit");

      const [rec] = await waitForRecords(env.admin, instanceId, 1);
      expect(rec?.statusCode).toBe(499);
      expect(rec?.errorClass).toBe("client_closed");
      expect(rec?.providerId).toBe("");
      expect(rec?.costUsd).toBe(0);
      expect(env.fake.requests.some((r) => JSON.stringify(r).includes(marker))).toBe(false);
    } finally {
      await locker.query("rollback").catch(() => undefined);
      await locker.end();
    }
  });

  it("a model name or a token count Postgres cannot store holds back no usage record", async () => {
    const key = await issueKey(env.admin);
    // The model names arrive as JSON escapes: a NUL character, and a lone UTF-16 surrogate.
    for (const model of ["gpt\\u0000x", "gpt\\ud800"]) {
      const res = await fetch(`${env.gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.secret}`, "content-type": "application/json" },
        body: `{"model":"${model}","messages":[{"role":"user","content":"hi"}]}`,
      });
      expect(res.status).toBe(404);
    }
    // An upstream reporting more tokens than an integer column holds.
    env.fake.setUsage("openai", { input: 5_000_000_000, output: 3 });
    const client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
    const { response } = await client.chat.completions
      .create({ model: MODELS.openai, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(tokensOf(rec)).toEqual(fullTokens({ input: 2_147_483_647, output: 3 }));
    const all = await waitForRecords(env.admin, key.instanceId, 3);
    expect(all.map((r) => r.requestedModel).sort()).toEqual(
      [MODELS.openai, "gpt\ufffd", "gpt\ufffdx"].sort(),
    );
  });
});
