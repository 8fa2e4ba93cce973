// redis.commandTimeoutMs, end to end: the gateway's limiter waits for a slow Redis reply as long
// as the config says, and no longer. Redis sits behind a proxy that holds each reply 2.5 s, past
// the 2 s default, so only a setting that reached the limiter can tell the two gateways apart.
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { issueKey, type IssuedKey } from "../facade/harness.js";
import { REDIS_URL, deleteKeys, startRedisProxy, uniquePrefix, type RedisProxy } from "./helpers.js";

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

/** A gateway with a global rate limit (so every request asks Redis) and the given reply timeout. */
async function gatewayBehindSlowRedis(
  commandTimeoutMs: number,
): Promise<{ gw: TestGateway; key: IssuedKey }> {
  proxy = await startRedisProxy();
  // Postgres rather than the embedded default: nothing here is about the database, and it starts at once.
  db = await createScratchDatabase();
  gw = await startTestGateway({
    databaseUrl: db.url,
    redisUrl: proxy.url,
    config: {
      redis: { keyPrefix: `${prefix}:`, commandTimeoutMs },
      rateLimiting: { global: { requestsPerMinute: 1_000 } },
    },
  });
  const key = await issueKey(gw.admin);
  // Only now: the gateway's connection and ready check ran at full speed.
  proxy.delayReplies(REPLY_DELAY_MS);
  return { gw, key };
}

function chat(g: TestGateway, key: IssuedKey): Promise<Response> {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key.secret}` },
    body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("redis.commandTimeoutMs", () => {
  it("a patient setting admits a request whose limit check Redis answers late", async () => {
    const { gw: g, key } = await gatewayBehindSlowRedis(60_000);
    const res = await chat(g, key);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("echo: hi");
    // Counted in the shared window, not by a local fallback.
    const raw = new Redis(REDIS_URL);
    try {
      expect(await raw.zcard(`${prefix}::rpm:global`)).toBe(1);
    } finally {
      raw.disconnect();
    }
  });

  it("a short setting refuses the request with 503 once its reply is overdue", async () => {
    const { gw: g, key } = await gatewayBehindSlowRedis(200);
    const res = await chat(g, key);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("service_unavailable");
    expect(body.error.message).toMatch(/could not be checked in time/);
  });
});
