// Shared set-up for limiter tests: a real Redis from TEST_REDIS_URL and a unique key prefix per test.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createMemoryLimiter, createRedisLimiter } from "../../server/src/limits/index.js";
import type { Limiter, SeedSpend } from "../../server/src/limits/index.js";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export const uniquePrefix = (): string => `kgtest:limits:${randomUUID()}`;

export interface Harness {
  kind: "memory" | "redis";
  /** A limiter; with Redis, each call is a separate connection sharing the same keys (a replica). */
  make(opts?: {
    seedSpend?: SeedSpend;
    onSeedError?: (err: unknown) => void;
    leaseMs?: number;
    reservationTtlMs?: number;
    connectionName?: string;
    commandTimeoutMs?: number;
  }): Promise<Limiter>;
  close(): Promise<void>;
}

export function memoryHarness(): Harness {
  const limiters: Limiter[] = [];
  return {
    kind: "memory",
    async make(opts = {}) {
      const l = createMemoryLimiter(opts);
      limiters.push(l);
      return l;
    },
    async close() {
      await Promise.all(limiters.map((l) => l.close()));
    },
  };
}

/**
 * How long a harness limiter waits for one Redis reply. These tests count exact sums, so a reply
 * that a starved host delays past the production default (2 s) must not turn into an outage and a
 * local count; the outage behaviour has its own tests (outage.test.ts) with short timeouts.
 */
const PATIENT_COMMAND_TIMEOUT_MS = 30_000;

export function redisHarness(prefix = uniquePrefix()): Harness & { prefix: string } {
  const limiters: Limiter[] = [];
  return {
    kind: "redis",
    prefix,
    async make(opts = {}) {
      const l = createRedisLimiter({
        url: REDIS_URL,
        keyPrefix: prefix,
        onOutage: "local",
        commandTimeoutMs: PATIENT_COMMAND_TIMEOUT_MS,
        ...opts,
      });
      limiters.push(l);
      if (!(await l.ready(30_000))) throw new Error(`Redis at ${REDIS_URL} is not reachable`);
      return l;
    },
    async close() {
      await Promise.all(limiters.map((l) => l.close()));
      await deleteKeys(prefix);
    },
  };
}

export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

export function header(headers: [string, string][], name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1];
}

/** 2026-11-21T12:00:00Z, a Saturday. */
export const T = Date.UTC(2026, 10, 21, 12, 0, 0);

/** A TCP hop in front of the real Redis that a test can cut, stall and restore. */
export interface RedisProxy {
  port: number;
  url: string;
  /** Close the listener and every connection: Redis "goes away". */
  stop(): Promise<void>;
  /** Keep connections open but drop Redis's replies: a hung server. */
  stall(): void;
  /** Pass Redis's replies on only after this many milliseconds, in order: a slow server. */
  delayReplies(ms: number): void;
  /** Resolves when a client next sends Redis a command named `name` (then on its way to Redis). */
  nextCommand(name: string): Promise<void>;
}

export async function startRedisProxy(port = 0): Promise<RedisProxy> {
  const { createServer, connect } = await import("node:net");
  const target = new URL(REDIS_URL);
  const sockets = new Set<import("node:net").Socket>();
  let stalled = false;
  let replyDelayMs = 0;
  let commandWaiters: { name: string; wake: () => void }[] = [];
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("data", (d) => {
      upstream.write(d);
      if (commandWaiters.length === 0) return;
      // RESP sends the command's name as a bulk string of its own: "$7\r\nevalsha\r\n".
      const text = d.toString("latin1").toLowerCase();
      const sent = commandWaiters.filter((w) => text.includes(`\r\n${w.name}\r\n`));
      commandWaiters = commandWaiters.filter((w) => !sent.includes(w));
      for (const w of sent) w.wake();
    });
    upstream.on("data", (d) => {
      if (stalled) return;
      // Timers with equal delays fire in the order they were set, so replies keep their order.
      if (replyDelayMs > 0) setTimeout(() => client.write(d), replyDelayMs);
      else client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on("close", end);
      s.on("error", end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const url = new URL(REDIS_URL);
  url.hostname = "127.0.0.1";
  url.port = String(bound);
  return {
    port: bound,
    url: url.toString(),
    stall() {
      stalled = true;
    },
    delayReplies(ms) {
      replyDelayMs = ms;
    },
    nextCommand(name) {
      return new Promise((wake) => commandWaiters.push({ name: name.toLowerCase(), wake }));
    },
    stop() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const proxy = await startRedisProxy();
  await proxy.stop();
  return proxy.port;
}
