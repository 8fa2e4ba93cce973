// Health as an operator and an orchestrator see it, on a `keygate serve` process backed by a real
// Postgres database: /healthz (liveness) and /readyz (readiness with named checks), `gwctl status`,
// `gwctl health` and `gwctl probe`; and what happens when the database goes away and comes back.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBinaries, gwctl } from "../cli/harness.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import { createTestDatabase, postgresUrl, type TestDatabase } from "../helpers/pg.js";
import { freePort, ROOT } from "../helpers/replicas.js";
import {
  at,
  chat,
  gwctlTarget,
  instanceWithKey,
  spawnKeygate,
  waitFor,
  type KeygateProcess,
} from "./harness.js";
import { createAdminClient } from "../../sdk/index.js";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const RIGHT_OPENAI = `sk-SENTINEL-right-openai-${Date.now()}`;
const WRONG_OPENAI = `sk-SENTINEL-wrong-openai-${Date.now()}`;
const GOOD_ANTHROPIC = `sk-ant-SENTINEL-good-${Date.now()}`;

let db: TestDatabase;
let dbName: string;
let fake: FakeUpstream;
let kg: KeygateProcess;
let spawnedAt: number;
let key: { secret: string };

async function onServer(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: postgresUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${kg.url}${path}`);
  return { status: res.status, body: (await res.json()) as unknown };
}

const cli = (args: string[]) => gwctl(gwctlTarget(kg.url, kg.adminToken), args);

beforeAll(async () => {
  if (!postgresUrl())
    throw new Error("TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)");
  db = await createTestDatabase("kg_ops_health");
  dbName = new URL(db.url).pathname.slice(1);
  fake = await startFakeUpstream();
  fake.expectCredential("openai", RIGHT_OPENAI);
  fake.expectCredential("anthropic", GOOD_ANTHROPIC);
  const closedPort = await freePort();
  await buildBinaries();
  spawnedAt = Date.now();
  kg = await spawnKeygate({
    databaseUrl: db.url,
    env: { KG_OPS_GOOD_KEY: GOOD_ANTHROPIC },
    config: {
      server: { replicaId: "ops-health", shutdownGraceMs: 500 },
      logging: { level: "info", requests: false },
      providers: {
        echo: { type: "echo", models: ["echo-1"], default: true },
        closed: {
          type: "openai-compatible",
          baseUrl: `http://127.0.0.1:${closedPort}/v1`,
          models: ["closed-model"],
        },
        "wrong-cred": { type: "openai", apiKey: WRONG_OPENAI, baseUrl: `${fake.url}/v1`, models: ["gpt-4o"] },
        good: {
          type: "anthropic",
          apiKey: "${KG_OPS_GOOD_KEY}",
          baseUrl: fake.url,
          models: ["claude-sonnet-4-20250514"],
        },
      },
    },
  });
  key = await instanceWithKey(createAdminClient({ baseUrl: kg.url, token: kg.adminToken }), {
    prefix: "health",
  });
});
afterAll(async () => {
  await kg?.stop();
  await onServer(`ALTER DATABASE ${dbName} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
  await db?.drop();
  await fake?.close();
});

describe("a ready gateway", () => {
  it("answers /healthz 200 and /readyz 200 with every check ok", async () => {
    expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    // Readiness is polled, as an orchestrator does: on a loaded machine a check can be down for a
    // moment (the change-notification connection comes up beside the server, and is re-opened
    // when a heartbeat goes unanswered). One CI run saw 503 here right after start.
    const ready = await waitFor("/readyz to answer 200", async () => {
      const r = await get("/readyz");
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return r;
    });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", draining: false });
    const checks = at(ready.body, "checks");
    expect(checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "database", ok: true }),
        expect.objectContaining({ name: "migrations", ok: true }),
        expect.objectContaining({ name: "notifications", ok: true }),
      ]),
    );
  });

  it("gwctl status --output json reports version, replica, uptime, database, redis, queue and notifications", async () => {
    const r = await cli(["status", "--output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as unknown;
    expect(at(s, "version")).toBe(VERSION);
    expect(at(s, "replicaId")).toBe("ops-health");
    const uptime = at(s, "uptimeSeconds");
    expect(typeof uptime).toBe("number");
    expect(uptime as number).toBeGreaterThan(0);
    expect(uptime as number).toBeLessThanOrEqual((Date.now() - spawnedAt) / 1000 + 1);
    const started = Date.parse(String(at(s, "startTime")));
    expect(started).toBeGreaterThanOrEqual(spawnedAt - 1000);
    expect(started).toBeLessThanOrEqual(Date.now());
    expect(at(s, "database")).toMatchObject({ kind: "postgres", configured: true, ok: true });
    expect(at(s, "redis")).toMatchObject({ kind: "memory", configured: false });
    expect(at(s, "usageQueueDepth")).toBe("0");
    expect(at(s, "usageBuffered")).toBe("0");
    expect(at(s, "notificationsConnected")).toBe(true);
    expect(at(s, "callerName")).toBe("admin");
  });

  it("gwctl health exits 0 and says ready", async () => {
    const r = await cli(["health"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^healthz: 200 ok/m);
    expect(r.stdout).toMatch(/^readyz: 200 ok/m);
    const j = await cli(["health", "--output", "json"]);
    expect(j.code).toBe(0);
    expect(at(JSON.parse(j.stdout) as unknown, "ready")).toBe(true);
  });

  it("gwctl probe: one line per provider with latency and result", async () => {
    const j = await cli(["probe", "--output", "json"]);
    expect(j.code).toBe(1);
    expect(j.stderr.trim()).toMatch(/^gwctl: probe failed for /);
    expect(j.stderr).toContain("closed");
    expect(j.stderr).toContain("wrong-cred");
    const results = at(JSON.parse(j.stdout) as unknown, "results");
    if (!Array.isArray(results)) throw new Error(`no results in ${j.stdout}`);
    const by = new Map(results.map((x) => [at(x, "providerId"), x]));
    expect(new Set(by.keys())).toEqual(new Set(["echo", "closed", "wrong-cred", "good"]));
    expect(by.get("echo")).toMatchObject({ ok: true });
    expect(by.get("closed")).toMatchObject({ ok: false, statusCode: 0, message: "unreachable" });
    expect(by.get("wrong-cred")).toMatchObject({
      ok: false,
      statusCode: 401,
      message: "credential rejected",
    });
    expect(by.get("good")).toMatchObject({ ok: true, statusCode: 200, message: "ok" });
    expect(at(by.get("good"), "latencyMs") as number).toBeGreaterThan(0);
    // The probes really reached the upstream, with the configured credentials.
    const probes = fake.requests.filter((q) => q.method === "GET");
    expect(probes.some((q) => q.headers["x-api-key"] === GOOD_ANTHROPIC)).toBe(true);
    expect(probes.some((q) => q.headers.authorization === `Bearer ${WRONG_OPENAI}`)).toBe(true);

    const table = await cli(["probe"]);
    expect(table.code).toBe(1);
    const rows = table.stdout.split("\n").filter((l) => l.trim() !== "");
    expect(rows[0]).toMatch(/^PROVIDER\s+OK\s+LATENCY MS\s+STATUS\s+MESSAGE/);
    expect(rows).toHaveLength(5);
    expect(rows.find((l) => l.startsWith("echo "))).toMatch(/^echo\s+ok\s+[\d.]+\s/);
    expect(rows.find((l) => l.startsWith("closed "))).toMatch(
      /^closed\s+FAIL\s+[\d.]+\s+-\s+unreachable\s*$/,
    );
    expect(rows.find((l) => l.startsWith("wrong-cred "))).toMatch(
      /^wrong-cred\s+FAIL\s+[\d.]+\s+401\s+credential rejected\s*$/,
    );
    expect(rows.find((l) => l.startsWith("good "))).toMatch(/^good\s+ok\s+[\d.]+\s+200\s+ok\s*$/);

    const some = await cli(["probe", "echo", "good"]);
    expect(some.code, some.stderr).toBe(0);
    for (const out of [j.stdout, j.stderr, table.stdout, table.stderr, some.stdout])
      for (const secret of [RIGHT_OPENAI, WRONG_OPENAI, GOOD_ANTHROPIC, kg.adminToken])
        expect(out).not.toContain(secret);
  });
});

describe("when the database goes away", () => {
  it("/readyz turns 503 while /healthz stays 200, the process keeps running, and it recovers", async () => {
    expect((await chat(kg.url, key.secret, "echo-1", "before")).status).toBe(200);

    await onServer(`ALTER DATABASE ${dbName} WITH ALLOW_CONNECTIONS false`);
    await onServer(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
    const down = await waitFor(
      "/readyz to answer 503",
      async () => {
        const r = await get("/readyz");
        return r.status === 503 ? r : undefined;
      },
      20_000,
    );
    expect(down.body).toMatchObject({ status: "not ready" });
    expect(at(down.body, "checks")).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "database", ok: false })]),
    );
    expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    const health = await cli(["health"]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/^readyz: 503 FAIL/m);
    const status = await cli(["status", "--output", "json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(at(JSON.parse(status.stdout) as unknown, "database")).toMatchObject({
      kind: "postgres",
      ok: false,
    });
    // Authentication fails closed, in the client's own error format, and nothing crashes.
    const refused = await chat(kg.url, key.secret, "echo-1", "during");
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { message: expect.any(String) } });
    expect(kg.alive(), kg.output()).toBe(true);

    await onServer(`ALTER DATABASE ${dbName} WITH ALLOW_CONNECTIONS true`);
    await waitFor(
      "/readyz to answer 200 again",
      async () => ((await get("/readyz")).status === 200 ? true : undefined),
      30_000,
    );
    expect((await chat(kg.url, key.secret, "echo-1", "after")).status).toBe(200);
    expect((await cli(["health"])).code).toBe(0);
    expect(kg.alive(), kg.output()).toBe(true);
  });
});
