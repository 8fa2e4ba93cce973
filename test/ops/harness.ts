// Shared pieces of the operator-view suites: inference calls as an agent makes them, the live
// feed as a monitoring plugin reads it, scrapes, polling with a deadline, a `keygate serve`
// process whose exit code can be checked, and gwctl pointed at any gateway.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import type { AdminClient, RequestRecord } from "../../sdk/index.js";
import { createTestDatabase, postgresUrl, type TestDatabase } from "../helpers/pg.js";
import { ROOT, ensureBuilt } from "../helpers/replicas.js";
import { startGwctl } from "../cli/harness.js";
import { parseExposition, type Exposition } from "./prom.js";

export interface Reply {
  status: number;
  /** keygate's x-request-id: the id of the usage record. */
  id: string;
  /** The exact bytes the client received, as text. */
  text: string;
}

/** POSTs a JSON body to the gateway with a virtual key, as the providers' SDKs do. */
export async function post(
  baseUrl: string,
  path: string,
  secret: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply & { raw: string }> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", ...headers },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, id: res.headers.get("x-request-id") ?? "", text, raw };
}

/** An OpenAI chat completion request (streamed when `stream`). */
export function chat(
  baseUrl: string,
  secret: string,
  model: string,
  content: string,
  extra: Record<string, unknown> = {},
): Promise<Reply & { raw: string }> {
  return post(baseUrl, "/v1/chat/completions", secret, {
    model,
    messages: [{ role: "user", content }],
    ...extra,
  });
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await delay(25);
  }
}

/** GET /metrics, parsed strictly. */
export async function scrape(
  baseUrl: string,
): Promise<{ contentType: string; text: string; exp: Exposition }> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  return { contentType: res.headers.get("content-type") ?? "", text, exp: parseExposition(text) };
}

/** Live-feed subscribers the gateway reports; a subscription is in place once this counts it. */
export async function watchers(baseUrl: string): Promise<number> {
  const { exp } = await scrape(baseUrl);
  const v = exp.get("keygate_watchers")?.samples[0]?.value;
  if (v === undefined) throw new Error("keygate_watchers is missing from /metrics");
  return v;
}

/** Waits until the gateway counts exactly `n` live-feed subscribers. */
export function waitForWatchers(baseUrl: string, n: number): Promise<number> {
  return waitFor(`${n} live-feed subscribers`, async () => ((await watchers(baseUrl)) === n ? n : undefined));
}

export interface Feed {
  /** Records received so far, in arrival order. */
  records: RequestRecord[];
  /** Sum of every `missed` event received. */
  missed: number;
  /** Resolves with the stream's first message, which confirms the subscription (missed = 0). */
  ready: Promise<{ case: string | undefined; value: unknown }>;
  /** Resolves once a record with this id has arrived. */
  until(id: string, timeoutMs?: number): Promise<RequestRecord[]>;
  stop(): void;
}

/** Subscribes to WatchRequests and collects what arrives, in the background. */
export function follow(admin: AdminClient, req: Parameters<AdminClient["watchRequests"]>[0] = {}): Feed {
  const abort = new AbortController();
  const records: RequestRecord[] = [];
  const waiters: { id: string; resolve: () => void }[] = [];
  let failure: unknown;
  let onFirst: (first: { case: string | undefined; value: unknown }) => void = () => {};
  const feed: Feed = {
    records,
    missed: 0,
    ready: new Promise((resolve) => (onFirst = resolve)),
    async until(id, timeoutMs = 10_000) {
      if (!records.some((r) => r.id === id)) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => waiters.push({ id, resolve })),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `record ${id} did not arrive on the feed within ${timeoutMs} ms` +
                      ` (got ${records.map((r) => r.id).join(", ") || "nothing"}${failure ? `; ${String(failure)}` : ""})`,
                  ),
                ),
              timeoutMs,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      }
      return records;
    },
    stop: () => abort.abort(),
  };
  void (async () => {
    try {
      for await (const msg of admin.watchRequests(req, { signal: abort.signal })) {
        onFirst({ case: msg.event.case, value: msg.event.value });
        if (msg.event.case === "missed") feed.missed += Number(msg.event.value);
        else if (msg.event.case === "record") {
          const rec = msg.event.value;
          records.push(rec);
          for (const w of waiters.filter((x) => x.id === rec.id)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) failure = err;
    }
  })();
  return feed;
}

/** A fresh instance (capture mode and policy optional) with one key. */
export async function instanceWithKey(
  admin: AdminClient,
  opts: { prefix?: string; instance?: Parameters<AdminClient["createInstance"]>[0]["instance"] } = {},
): Promise<{ instanceId: string; keyId: string; secret: string }> {
  const instanceId = `${opts.prefix ?? "ops"}-${randomUUID().slice(0, 8)}`;
  await admin.createInstance({ instanceId, ...(opts.instance ? { instance: opts.instance } : {}) });
  const created = await admin.createKey({ instanceId });
  if (!created.key || !created.secret) throw new Error("CreateKey returned no key or secret");
  return { instanceId, keyId: created.key.id, secret: created.secret };
}

// ---------------------------------------------------------------------------------------------
// `keygate serve` as a process

export interface KeygateProcess {
  url: string;
  port: number;
  adminToken: string;
  child: ChildProcess;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** What it printed (stdout and stderr). */
  output(): string;
  /** SIGTERM and wait; SIGKILL after `graceMs`. Removes its data directory. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/**
 * Runs `node server/bin/keygate.js serve --port 0` on 127.0.0.1 with its own data directory, a fresh
 * master key and admin token, and the given config file and database; resolves once it listens.
 */
export async function spawnKeygate(opts: {
  config: Record<string, unknown>;
  databaseUrl?: string;
  env?: Record<string, string>;
  /** Fixed values instead of a free port and fresh secrets (to restart "the same" gateway). */
  port?: number;
  adminToken?: string;
  masterKey?: string;
}): Promise<KeygateProcess> {
  await ensureBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), "keygate-ops-"));
  const configFile = join(dataDir, "config.json");
  writeFileSync(configFile, JSON.stringify(opts.config, null, 2));
  const adminToken = opts.adminToken ?? `kg_admin_ops_${randomBytes(16).toString("hex")}`;
  const port = String(opts.port ?? 0);
  const child = spawn(
    process.execPath,
    ["server/bin/keygate.js", "serve", "--port", port, "--host", "127.0.0.1", "--config", configFile],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        KEYGATE_DATA_DIR: dataDir,
        KEYGATE_ADMIN_TOKEN: adminToken,
        KEYGATE_MASTER_KEY: opts.masterKey ?? randomBytes(32).toString("base64"),
        ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const out: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (l) => out.push(`[stderr] ${l}`));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      out.push(line);
      const m = /^keygate \S+ listening on (https?:\/\/127\.0\.0\.1:\d+)\s*$/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once("error", reject);
    void exited.then(({ code, signal }) =>
      reject(new Error(`keygate exited (${signal ?? code}) before listening:\n${out.join("\n")}`)),
    );
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    url,
    port: Number(new URL(url).port),
    adminToken,
    child,
    exited,
    alive,
    output: () => out.join("\n"),
    async stop(graceMs = 5_000) {
      if (alive()) {
        child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
        if (alive()) child.kill("SIGKILL");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** gwctl's view of a gateway, in the shape test/cli/harness.ts takes. */
export function gwctlTarget(
  url: string,
  token: string,
): { url: string; token: string; dataDir: string; close(): Promise<void> } {
  return { url, token, dataDir: "", close: async () => {} };
}

/** A running `gwctl requests --follow --output json`: its stdout lines as they come, and its stderr. */
export interface GwctlFeed {
  child: ChildProcess;
  /** One JSON record per line. */
  out: string[];
  err(): string;
  exited: Promise<number | null>;
}

/** Starts `gwctl requests --follow --instance <instanceId> [...args] --output json` against `url`. */
export function followWithGwctl(
  url: string,
  token: string,
  instanceId: string,
  args: string[] = [],
): GwctlFeed {
  const child = startGwctl(gwctlTarget(url, token), [
    "requests",
    "--follow",
    "--instance",
    instanceId,
    ...args,
    "--output",
    "json",
  ]);
  const out: string[] = [];
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  createInterface({ input: child.stdout! }).on("line", (l) => out.push(l));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, out, err: () => err, exited };
}

/** Walks into parsed JSON without `any`. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** JSON with bigints as strings, for searching Admin API answers. */
export function dump(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** A fresh Postgres database for one test file (TEST_DATABASE_URL is required, as in CI). */
export async function freshDatabase(prefix: string): Promise<TestDatabase> {
  if (!postgresUrl())
    throw new Error("TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)");
  return createTestDatabase(prefix);
}
