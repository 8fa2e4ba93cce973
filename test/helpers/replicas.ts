// Several REAL gateway processes (`node server/bin/keygate.js serve`) behind no load balancer, sharing one
// fresh Postgres database, one master key, one admin token and one Redis key prefix, each with its
// own data directory: what a multi-replica deployment runs. Also a private redis-server for tests
// that take Redis away (the shared one must stay up for everyone else).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { createAdminClient, type AdminClient } from "../../sdk/index.js";
import { createTestDatabase } from "./pg.js";

export const ROOT = resolve(import.meta.dirname, "../..");

// Every child this module started; killed if the test process goes away without stopping them.
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Waits for a child to exit; SIGKILL after `graceMs`. */
async function terminate(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (!isRunning(child)) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
  await Promise.race([exited, late]);
  clearTimeout(timer);
  if (isRunning(child)) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Keeps the last lines a child printed, for error messages. */
function tailBuffer(max = 200): { push(line: string): void; text(): string } {
  const lines: string[] = [];
  return {
    push(line) {
      lines.push(line);
      if (lines.length > max) lines.shift();
    },
    text: () => lines.join("\n"),
  };
}

// ---------------------------------------------------------------------------------------------
// Build

const BUNDLES = ["dist/keygate.js", "dist/fake-upstream.js"];
const SOURCES = ["server/src", "sdk", "test/fakes", "scripts/build.mjs"];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function bundlesStale(): boolean {
  let oldest = Infinity;
  for (const b of BUNDLES) {
    try {
      oldest = Math.min(oldest, statSync(join(ROOT, b)).mtimeMs);
    } catch {
      return true;
    }
  }
  return SOURCES.some((s) => newestMtime(join(ROOT, s)) > oldest);
}

let built = false;

/**
 * Runs scripts/build.mjs when dist/ is older than the sources. A lock file serialises the test
 * files that start gateways at the same time, so none of them starts a half-written bundle.
 */
export async function ensureBuilt(): Promise<void> {
  if (built) return;
  const lock = join(tmpdir(), "keygate-replicas-build.lock");
  const deadline = Date.now() + 60_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, "wx");
    } catch {
      // A lock older than a build can take belongs to a process that died holding it.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        // Released in the meantime.
      }
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for over a minute`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (bundlesStale()) {
      const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`node scripts/build.mjs failed:\n${r.stderr}${r.stdout}`);
    }
    built = true;
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Replicas

export interface Replica {
  /** "A", "B", "C", …; also its server.replicaId, so usage records name it. */
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Admin API client bound to this replica. */
  readonly admin: AdminClient;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, wait for the exit (SIGKILL if it does not come). */
  stop(): Promise<void>;
  /** What it printed on stdout and stderr (last lines). */
  output(): string;
  /** Its log file (complete once stopped: the logger buffers). */
  logs(): string;
}

export interface ReplicaSet {
  readonly replicas: Replica[];
  /** Admin client on the first replica. */
  readonly admin: AdminClient;
  readonly adminToken: string;
  readonly databaseUrl: string;
  readonly databaseName: string;
  readonly redisUrl: string | undefined;
  /** redis.keyPrefix of this set. */
  readonly keyPrefix: string;
  /** Stops every replica, drops the database and the Redis keys of this set. */
  stop(): Promise<void>;
  /** Warnings and errors every replica logged or printed (complete once stopped), for failure reports. */
  problems(): string;
}

export interface ReplicaSetOptions {
  /** Default 3, named A, B, C. */
  count?: number;
  /** Config file sections; `redis.keyPrefix`, `server.replicaId` and the log file are filled in. */
  config?: Record<string, unknown>;
  /** Default TEST_REDIS_URL; null runs without Redis. */
  redisUrl?: string | null;
  /** How long to wait for each replica to listen, and then to report ready. Default 30 s each. */
  readyTimeoutMs?: number;
}

const LISTENING = /^keygate \S+ listening on (http:\/\/127\.0\.0\.1:\d+)\s*$/;

function section(config: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = config[name];
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

interface StartSpec {
  name: string;
  configFile: string;
  dataDir: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
  adminToken: string;
  startTimeoutMs: number;
}

async function startReplica(spec: StartSpec): Promise<Replica> {
  const child = spawn(
    process.execPath,
    ["server/bin/keygate.js", "serve", "--port", "0", "--config", spec.configFile],
    { cwd: ROOT, env: spec.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  track(child);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const out = tailBuffer();
  const stdout = createInterface({ input: child.stdout! });
  createInterface({ input: child.stderr! }).on("line", (l) => out.push(`[stderr] ${l}`));
  let timer: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolveUrl, reject) => {
    stdout.on("line", (line) => {
      out.push(line);
      const m = LISTENING.exec(line);
      if (m) resolveUrl(m[1]!);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      reject(new Error(`replica ${spec.name} exited before listening (${signal ?? code}):\n${out.text()}`)),
    );
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`replica ${spec.name} printed no listening line within ${spec.startTimeoutMs} ms`));
    }, spec.startTimeoutMs);
  }).finally(() => clearTimeout(timer));
  // Kept after the stop, when the data directory is gone.
  let finalLogs: string | undefined;
  const logs = (): string => {
    if (finalLogs !== undefined) return finalLogs;
    try {
      return readFileSync(spec.logFile, "utf8");
    } catch {
      return "";
    }
  };
  return {
    name: spec.name,
    url,
    pid: child.pid!,
    dataDir: spec.dataDir,
    admin: createAdminClient({ baseUrl: url, token: spec.adminToken }),
    alive: () => isRunning(child),
    kill: (signal = "SIGKILL") => {
      if (isRunning(child)) child.kill(signal);
    },
    async stop() {
      await terminate(child, exited, 5_000);
      finalLogs ??= logs();
    },
    output: out.text,
    logs,
  };
}

/** Polls `/readyz` until it answers 200, or throws with the last answer after `timeoutMs`. */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  r.on("error", () => {});
  try {
    await r.connect();
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await r.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } catch {
    // A private Redis may already be gone; its keys went with it.
  } finally {
    r.disconnect();
  }
}

/**
 * Starts `count` gateway replicas on 127.0.0.1 against one fresh Postgres database and (unless
 * `redisUrl: null`) Redis, and resolves once every one reports ready (database, notifications,
 * Redis). On any failure everything already started is stopped again before the error is thrown.
 */
export async function startReplicas(opts: ReplicaSetOptions = {}): Promise<ReplicaSet> {
  await ensureBuilt();
  const count = opts.count ?? 3;
  const redisUrl = opts.redisUrl === null ? undefined : (opts.redisUrl ?? process.env.TEST_REDIS_URL);
  if (opts.redisUrl !== null && !redisUrl) throw new Error("TEST_REDIS_URL is not set");
  const db = await createTestDatabase("kg_replicas");
  const databaseName = new URL(db.url).pathname.slice(1);
  const root = await mkdtemp(join(tmpdir(), "keygate-replicas-"));
  const adminToken = `kg_admin_test_${randomBytes(16).toString("hex")}`;
  const masterKey = randomBytes(32).toString("base64");
  const keyPrefix = `kgtest-${randomBytes(6).toString("hex")}:`;
  const base = opts.config ?? {};
  const replicas: Replica[] = [];

  const stop = async (): Promise<void> => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db.drop().catch(() => {});
    if (redisUrl) await deleteRedisKeys(redisUrl, keyPrefix);
    await rm(root, { recursive: true, force: true });
  };

  try {
    const specs: StartSpec[] = Array.from({ length: count }, (_, i) => {
      const name = String.fromCharCode(65 + i);
      const dataDir = join(root, name);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const logFile = join(dataDir, "gateway.log");
      const config = {
        ...base,
        server: { shutdownGraceMs: 200, ...section(base, "server"), replicaId: name },
        redis: { ...section(base, "redis"), keyPrefix },
        logging: { level: "info", requests: false, ...section(base, "logging"), logFile },
      };
      const configFile = join(dataDir, "config.json");
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        KEYGATE_MASTER_KEY: masterKey,
        KEYGATE_ADMIN_TOKEN: adminToken,
        KEYGATE_DATA_DIR: dataDir,
        ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      };
      return {
        name,
        configFile,
        dataDir,
        logFile,
        env,
        adminToken,
        startTimeoutMs: opts.readyTimeoutMs ?? 120_000,
      };
    });
    // Started together, as a rollout does: migrations must cope with replicas racing.
    const results = await Promise.allSettled(specs.map(startReplica));
    for (const r of results) if (r.status === "fulfilled") replicas.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    await Promise.all(replicas.map((r) => waitReady(r.url, opts.readyTimeoutMs ?? 120_000)));
  } catch (err) {
    const logs = replicas.map((r) => `--- ${r.name} ---\n${r.output()}\n${r.logs().slice(-4000)}`).join("\n");
    await stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }

  const problems = (): string =>
    replicas
      .map((r) => {
        // pino levels: 40 warn, 50 error, 60 fatal.
        const lines = r
          .logs()
          .split("\n")
          .filter((l) => /"level":[4-6]0\b/.test(l));
        const stderr = r
          .output()
          .split("\n")
          .filter((l) => l.startsWith("[stderr]"));
        return `--- replica ${r.name} ---\n${[...lines, ...stderr].slice(-50).join("\n")}`;
      })
      .join("\n");

  return {
    replicas,
    admin: replicas[0]!.admin,
    problems,
    adminToken,
    databaseUrl: db.url,
    databaseName,
    redisUrl,
    keyPrefix,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// A private Redis

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  running(): boolean;
  /** SIGKILL: the server vanishes without a goodbye, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A free loopback port (bound, read and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Starts `redis-server` on a free 127.0.0.1 port, without persistence, as this process's child. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const c = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    track(c);
    child = c;
    exited = new Promise<void>((r) => c.once("exit", () => r()));
    const out = tailBuffer(50);
    createInterface({ input: c.stderr! }).on("line", (l) => out.push(l));
    await new Promise<void>((ready, reject) => {
      createInterface({ input: c.stdout! }).on("line", (line) => {
        out.push(line);
        if (line.includes("Ready to accept connections")) ready();
      });
      c.once("error", reject);
      c.once("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${out.text()}`)));
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    running: () => child !== undefined && isRunning(child),
    async kill() {
      if (child && isRunning(child)) {
        child.kill("SIGKILL");
        await exited;
      }
    },
    restart: launch,
    async stop() {
      if (child) await terminate(child, exited, 2_000);
    },
  };
}
