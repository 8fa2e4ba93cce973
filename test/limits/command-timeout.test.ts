// redis.commandTimeoutMs, end to end: the gateway's limiter waits for a slow Redis reply as long
// as the config says, and no longer. Redis sits behind a proxy that holds each reply 2.5 s, past
// the 2 s default, so only a setting that reached the limiter can tell the two gateways apart.
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  startGatewayBehindRedisProxy,
  type GatewayBehindRedisProxy,
} from "../helpers/gateway-behind-redis-proxy.js";
import { REDIS_URL } from "./helpers.js";

const REPLY_DELAY_MS = 2_500;

let setup: GatewayBehindRedisProxy | undefined;

afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

/** A gateway with the given reply timeout, whose Redis answers late from now on. */
async function gatewayBehindSlowRedis(commandTimeoutMs: number): Promise<GatewayBehindRedisProxy> {
  setup = await startGatewayBehindRedisProxy({ redis: { commandTimeoutMs } });
  // Only now: the gateway's connection and ready check ran at full speed.
  setup.proxy.delayReplies(REPLY_DELAY_MS);
  return setup;
}

describe("redis.commandTimeoutMs", () => {
  it("a patient setting admits a request whose limit check Redis answers late", async () => {
    const s = await gatewayBehindSlowRedis(60_000);
    const res = await s.chat();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("echo: hi");
    // Counted in the shared window, not by a local fallback.
    const raw = new Redis(REDIS_URL);
    try {
      expect(await raw.zcard(`${s.keyPrefix}:rpm:global`)).toBe(1);
    } finally {
      raw.disconnect();
    }
  });

  it("a short setting refuses the request with 503 once its reply is overdue", async () => {
    const s = await gatewayBehindSlowRedis(200);
    const res = await s.chat();
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("service_unavailable");
    expect(body.error.message).toMatch(/could not be checked in time/);
  });
});
