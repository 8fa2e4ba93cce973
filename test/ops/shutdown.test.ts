// Graceful shutdown of a `keygate serve` process, as a rolling deploy does it: SIGTERM while a
// slow stream is in flight. The stream finishes, new connections are refused at once, the usage
// queue is flushed (the record is in Postgres after the process is gone), and the exit code is 0.
import { connect } from "node:net";
import pg from "pg";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminClient } from "../../sdk/index.js";
import { answerText } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import { createTestDatabase, postgresUrl, type TestDatabase } from "../helpers/pg.js";
import { instanceWithKey, spawnKeygate, waitFor, type KeygateProcess } from "./harness.js";

const PIECES = 20;
const PIECE_DELAY_MS = 100;
const CREDENTIAL = `sk-SENTINEL-shutdown-${Date.now()}`;

let db: TestDatabase;
let fake: FakeUpstream;
let kg: KeygateProcess;

/** Whether a new TCP connection to the port is refused right now. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

beforeAll(async () => {
  if (!postgresUrl())
    throw new Error("TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)");
  db = await createTestDatabase("kg_ops_shutdown");
  fake = await startFakeUpstream();
  fake.expectCredential("openai", CREDENTIAL);
  fake.streamChunks(PIECES, PIECE_DELAY_MS);
  kg = await spawnKeygate({
    databaseUrl: db.url,
    env: { KG_OPS_OPENAI_KEY: CREDENTIAL },
    config: {
      server: { shutdownGraceMs: 20_000 },
      logging: { level: "info", requests: false },
      // Nothing is written before shutdown: only the drain on SIGTERM can store the record.
      usage: { flushIntervalMs: 600_000, batchSize: 10_000 },
      providers: {
        openai: {
          type: "openai",
          apiKey: "${KG_OPS_OPENAI_KEY}",
          baseUrl: `${fake.url}/v1`,
          models: ["gpt-4o"],
        },
      },
    },
  });
});
afterAll(async () => {
  await kg?.stop();
  await db?.drop();
  await fake?.close();
});

describe("SIGTERM", () => {
  it("lets the in-flight stream finish, refuses new connections, flushes the usage record and exits 0", async () => {
    const k = await instanceWithKey(createAdminClient({ baseUrl: kg.url, token: kg.adminToken }), {
      prefix: "drain",
    });
    const res = await request(`${kg.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${k.secret}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-4o",
        stream: true,
        messages: [{ role: "user", content: "slowly" }],
      }),
    });
    expect(res.statusCode).toBe(200);
    const requestId = String(res.headers["x-request-id"]);
    let text = "";
    let streamEnded = false;
    const chunks = res.body[Symbol.asyncIterator]();
    // The answer has started before the signal.
    while (!text.includes('"content"')) {
      const c = await chunks.next();
      if (c.done) throw new Error(`stream ended early: ${text}`);
      text += (c.value as Buffer).toString("utf8");
    }
    const rest = (async () => {
      for (;;) {
        const c = await chunks.next();
        if (c.done) break;
        text += (c.value as Buffer).toString("utf8");
      }
      streamEnded = true;
      return Date.now();
    })();

    kg.child.kill("SIGTERM");
    await waitFor(
      "new connections to be refused",
      async () => ((await refused(kg.port)) ? true : undefined),
      5_000,
    );
    expect(streamEnded, "the stream was still in flight when new connections were refused").toBe(false);
    expect(kg.alive()).toBe(true);

    const endedAt = await rest;
    const exit = await kg.exited;
    const exitedAt = Date.now();
    expect(exit, kg.output()).toEqual({ code: 0, signal: null });
    expect(exitedAt).toBeGreaterThanOrEqual(endedAt);

    // The client got the whole answer, properly terminated.
    const content = text
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)) as { choices?: { delta?: { content?: string } }[] })
      .map((e) => e.choices?.[0]?.delta?.content ?? "")
      .join("");
    expect(content).toBe(answerText(PIECES));
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);

    // The record was written by the shutdown drain.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const rows = await c.query<{
        status_code: number;
        output_tokens: number;
        stream: boolean;
        instance_id: string;
      }>("SELECT status_code, output_tokens, stream, instance_id FROM usage_records WHERE id = $1", [
        requestId,
      ]);
      expect(rows.rows).toEqual([
        { status_code: 200, output_tokens: 20, stream: true, instance_id: k.instanceId },
      ]);
    } finally {
      await c.end();
    }
  });
});
