// A real gateway whose Redis sits behind a RedisProxy (test/limits/helpers.ts), for tests of what a
// slow Redis does to requests. A global rate limit makes every request ask Redis; the gateway runs
// on a scratch Postgres database rather than the embedded default, which starts at once.
import { issueKey, type IssuedKey } from "../facade/harness.js";
import { deleteKeys, startRedisProxy, uniquePrefix, type RedisProxy } from "../limits/helpers.js";
import { createScratchDatabase } from "./admin-server.js";
import { startTestGateway, type TestGateway } from "./gateway.js";

export interface GatewayBehindRedisProxy {
  gw: TestGateway;
  proxy: RedisProxy;
  /** A key of a fresh instance. */
  key: IssuedKey;
  /** The gateway's redis.keyPrefix, for reading its counters directly. */
  keyPrefix: string;
  /** The scratch database, for reading its usage records directly. */
  databaseUrl: string;
  /** A one-message chat completion to the echo model with `key`. */
  chat(): Promise<Response>;
  /** Idempotent: the gateway, the proxy, the database and the Redis keys. */
  close(): Promise<void>;
}

export async function startGatewayBehindRedisProxy(config: {
  server?: Record<string, unknown>;
  redis: { commandTimeoutMs: number };
}): Promise<GatewayBehindRedisProxy> {
  const prefix = uniquePrefix();
  const keyPrefix = `${prefix}:`;
  const proxy = await startRedisProxy();
  const db = await createScratchDatabase();
  const gw = await startTestGateway({
    databaseUrl: db.url,
    redisUrl: proxy.url,
    config: {
      ...(config.server ? { server: config.server } : {}),
      redis: { keyPrefix, commandTimeoutMs: config.redis.commandTimeoutMs },
      rateLimiting: { global: { requestsPerMinute: 1_000 } },
    },
  });
  const key = await issueKey(gw.admin);
  let closing: Promise<void> | undefined;
  return {
    gw,
    proxy,
    key,
    keyPrefix,
    databaseUrl: db.url,
    chat: () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key.secret}` },
        body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "hi" }] }),
      }),
    close() {
      closing ??= (async () => {
        await gw.close();
        await proxy.stop();
        await db.drop();
        await deleteKeys(prefix);
      })();
      return closing;
    },
  };
}
