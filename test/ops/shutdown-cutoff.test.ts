// A request cut off by shutdown still leaves its usage record. Here the request is waiting for its
// limit check (Redis answers late, through a proxy) when the grace period ends and its connection
// is closed; it only learns that its client is gone after the usage queue would have had its last
// flush. Shutdown must wait for it, so the record (499, client_closed) is in Postgres when close()
// returns.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  startGatewayBehindRedisProxy,
  type GatewayBehindRedisProxy,
} from "../helpers/gateway-behind-redis-proxy.js";

const REPLY_DELAY_MS = 2_500;

let setup: GatewayBehindRedisProxy | undefined;

afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

describe("shutdown", () => {
  it("waits for a request it cut off to stamp its usage record before the last flush", async () => {
    const s = await startGatewayBehindRedisProxy({
      server: { shutdownGraceMs: 50 },
      redis: { commandTimeoutMs: 60_000 },
    });
    setup = s;
    // At full speed first: Redis then holds the limit script, so the next check is one round trip.
    expect((await s.chat()).status).toBe(200);
    s.proxy.delayReplies(REPLY_DELAY_MS);

    const command = s.proxy.nextCommand("evalsha");
    const answer = s.chat().then(
      (res) => res.status,
      () => "connection closed",
    );
    // The limit check is on its way to Redis: the request is in flight inside the gateway.
    await command;
    await s.gw.gateway.close();
    expect(await answer).toBe("connection closed");

    const client = new pg.Client({ connectionString: s.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ status_code: number; error_class: string }>(
        "select status_code, error_class from usage_records where instance_id = $1 order by time",
        [s.key.instanceId],
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
