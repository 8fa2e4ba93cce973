// Defaults, ${ENV} interpolation and the precedence of overrides, environment and file.
import { hostname } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config/load.js";
import type { KeygateConfig } from "../../server/src/config/types.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.remove());

const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");

describe("built-in defaults", () => {
  it("gives a complete config with the echo demo provider when there is no file", () => {
    const expected: KeygateConfig = {
      server: {
        host: "127.0.0.1",
        port: 8484,
        bodyLimitBytes: 10 * 1024 * 1024,
        workers: 1,
        shutdownGraceMs: 10000,
        headersTimeoutMs: 60000,
        replicaId: `${hostname()}-${process.pid}`,
      },
      database: { url: undefined, dataDir: "./.keygate" },
      redis: { url: undefined, onOutage: "local", keyPrefix: "keygate:", commandTimeoutMs: 2000 },
      secrets: { masterKey: undefined, previousKeys: {} },
      admin: { token: undefined, tokens: [] },
      providers: {
        echo: {
          type: "echo",
          models: ["echo-1"],
          default: true,
          weight: 1,
          timeouts: { connectMs: 5000, firstByteMs: 60000, idleMs: 60000, totalMs: 600000 },
          headers: {},
        },
      },
      routing: {
        chain: [],
        rules: [],
        aliases: {},
        retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5000, maxRetryAfterMs: 30000 },
        breaker: { failureThreshold: 5, windowMs: 30000, cooldownMs: 15000 },
      },
      rateLimiting: {},
      auth: { type: "bearer", tokens: [] },
      security: { allowedIPs: [], trustedProxies: [] },
      tls: { enabled: false },
      logging: { level: "info", requests: true, includePrompts: false },
      pricing: {},
      budgets: { unpricedModels: "refuse" },
      usage: { queueLimit: 100000, batchSize: 200, flushIntervalMs: 25 },
      capture: { retentionDays: 7, maxBodyBytes: 1024 * 1024 },
    };
    expect(loadConfig({ env: {} })).toEqual(expected);
  });

  it("reads the file named by KEYGATE_CONFIG", () => {
    const file = tmp.write("from-env.json", { server: { port: 9001 } });
    expect(loadConfig({ env: { KEYGATE_CONFIG: file } }).server.port).toBe(9001);
  });

  it("fills keygate's own sections", () => {
    const file = tmp.write("own.json", {
      server: { bodyLimit: "512kb", replicaId: "gw-a" },
      capture: { maxBodyBytes: "2mb" },
      pricing: { "gpt-4.1": { input: 2, output: 8, cacheRead: 0.5 } },
      routing: { retry: { maxAttempts: 5 }, aliases: { fast: [{ provider: "echo", model: "echo-1" }] } },
      admin: { tokens: [{ name: "ops", token: "adm", role: "operator" }] },
      secrets: { previousKeys: { k0: MASTER_KEY } },
      providers: {
        echo: {
          type: "echo",
          timeouts: { totalMs: 1000 },
          headers: { "HTTP-Referer": "https://example.com" },
        },
      },
    });
    const config = loadConfig({ file, env: {} });
    expect(config.server.bodyLimitBytes).toBe(512 * 1024);
    expect(config.server.replicaId).toBe("gw-a");
    expect(config.capture.maxBodyBytes).toBe(2 * 1024 * 1024);
    expect(config.pricing).toEqual({ "gpt-4.1": { input: 2, output: 8, cacheRead: 0.5 } });
    expect(config.routing.retry).toEqual({
      maxAttempts: 5,
      baseDelayMs: 200,
      maxDelayMs: 5000,
      maxRetryAfterMs: 30000,
    });
    expect(config.routing.aliases).toEqual({ fast: [{ provider: "echo", model: "echo-1", weight: 1 }] });
    expect(config.admin.tokens).toEqual([{ name: "ops", token: "adm", role: "operator" }]);
    expect(config.secrets.previousKeys).toEqual({ k0: MASTER_KEY });
    expect(config.providers.echo?.timeouts).toEqual({
      connectMs: 5000,
      firstByteMs: 60000,
      idleMs: 60000,
      totalMs: 1000,
    });
    expect(config.providers.echo?.headers).toEqual({ "HTTP-Referer": "https://example.com" });
  });
});

describe("interpolation", () => {
  it("supports defaults and a literal ${", () => {
    const file = tmp.write("interp.json", {
      server: { host: "${HOST:-0.0.0.0}", replicaId: "${REGION}-${ZONE:-}x" },
      providers: {
        p: { type: "openai-compatible", baseUrl: "https://h/${EMPTY:-v1}", headers: { "X-T": "$${NOT}" } },
      },
    });
    const config = loadConfig({ file, env: { REGION: "eu", EMPTY: "" } });
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.server.replicaId).toBe("eu-x");
    expect(config.providers.p?.baseUrl).toBe("https://h/v1");
    expect(config.providers.p?.headers).toEqual({ "X-T": "${NOT}" });
  });

  it("keeps a value that looks like JSON or a reference as a plain string", () => {
    const file = tmp.write("inject.json", {
      admin: { tokens: [{ name: "a", token: "${TOKEN}", role: "admin" }] },
    });
    const token = '", "role": "admin" } ${OTHER}';
    const config = loadConfig({ file, env: { TOKEN: token, OTHER: "expanded" } });
    expect(config.admin.tokens).toEqual([{ name: "a", token, role: "admin" }]);
  });
});

describe("precedence: overrides, then environment, then file, then defaults", () => {
  const file = tmp.write("precedence.json", {
    server: { host: "10.0.0.1", port: 9000, workers: 2 },
    database: { url: "postgres://file/db", dataDir: "/var/lib/file" },
    redis: { url: "redis://file:6379" },
    logging: { level: "warn" },
  });

  it("uses the file over the defaults", () => {
    const config = loadConfig({ file, env: {} });
    expect([config.server.host, config.server.port, config.server.workers]).toEqual(["10.0.0.1", 9000, 2]);
    expect(config.database).toEqual({ url: "postgres://file/db", dataDir: "/var/lib/file" });
    expect(config.redis.url).toBe("redis://file:6379");
    expect(config.logging.level).toBe("warn");
  });

  it("uses the environment over the file", () => {
    const env = {
      KEYGATE_HOST: "0.0.0.0",
      KEYGATE_PORT: "9100",
      KEYGATE_WORKERS: "4",
      DATABASE_URL: "postgresql://env/db",
      KEYGATE_DATA_DIR: "/data",
      REDIS_URL: "rediss://env:6380",
      KEYGATE_ADMIN_TOKEN: "admin-from-env",
      KEYGATE_MASTER_KEY: MASTER_KEY,
      KEYGATE_LOG_LEVEL: "debug",
    };
    const config = loadConfig({ file, env });
    expect([config.server.host, config.server.port, config.server.workers]).toEqual(["0.0.0.0", 9100, 4]);
    expect(config.database).toEqual({ url: "postgresql://env/db", dataDir: "/data" });
    expect(config.redis.url).toBe("rediss://env:6380");
    expect(config.admin.token).toBe("admin-from-env");
    expect(config.secrets.masterKey).toBe(MASTER_KEY);
    expect(config.logging.level).toBe("debug");
  });

  it("uses overrides over the environment", () => {
    const env = { KEYGATE_HOST: "0.0.0.0", KEYGATE_PORT: "9100", KEYGATE_WORKERS: "4" };
    const config = loadConfig({ file, env, overrides: { host: "::1", port: 0, workers: 3 } });
    expect([config.server.host, config.server.port, config.server.workers]).toEqual(["::1", 0, 3]);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ file, env: { KEYGATE_PORT: "", DATABASE_URL: "" } }).server.port).toBe(9000);
  });
});
