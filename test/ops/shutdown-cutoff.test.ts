// A request cut off by shutdown still leaves its usage record. Here the request is waiting for its
// limit check (Redis answers late, through a proxy) when the grace period ends and its connection
// is closed; it only learns that its client is gone after the usage queue would have had its last
// flush. Shutdown must wait for it, so the record (499, client_closed) is in Postgres when close()
// returns.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { issueKey } from "../facade/harness.js";
import { deleteKeys, startRedisProxy, uniquePrefix, type RedisProxy } from "../limits/helpers.js";

const REPLY_DELAY_MS = 2_500;

let gw: TestGateway | undefined;
let proxy: RedisProxy | undefined;
let db: ScratchDatabase | undefined;
const prefix = uniquePrefix();

afterEach(async () => {
  await gw?.close();
  await proxy?.stop();
  await db?.drop();
  gw = undefined;
  proxy = undefined;
  db = undefined;
  await deleteKeys(prefix);
});

describe("shutdown", () => {
  it("waits for a request it cut off to stamp its usage record before the last flush", async () => {
    proxy = await startRedisProxy();
    db = await createScratchDatabase();
    const g = await startTestGateway({
      databaseUrl: db.url,
      redisUrl: proxy.url,
      config: {
        server: { shutdownGraceMs: 50 },
        redis: { keyPrefix: `${prefix}:`, commandTimeoutMs: 60_000 },
        rateLimiting: { global: { requestsPerMinute: 1_000 } },
      },
    });
    gw = g;
    const key = await issueKey(g.admin);
    const chat = (): Promise<Response> =>
      fetch(`${g.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key.secret}` },
        body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "hi" }] }),
      });
    // At full speed first: Redis then holds the limit script, so the next check is one round trip.
    expect((await chat()).status).toBe(200);
    proxy.delayReplies(REPLY_DELAY_MS);

    const command = proxy.nextCommand("evalsha");
    const answer = chat().then(
      (res) => res.status,
      () => "connection closed",
    );
    // The limit check is on its way to Redis: the request is in flight inside the gateway.
    await command;
    await g.gateway.close();
    expect(await answer).toBe("connection closed");

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ status_code: number; error_class: string }>(
        "select status_code, error_class from usage_records where instance_id = $1 order by time",
        [key.instanceId],
      );
      expect(rows).toEqual([
        { status_code: 200, error_class: "" },
        { status_code: 499, error_class: "client_closed" },
      ]);
    } finally {
      await client.end();
    }
  });
});
