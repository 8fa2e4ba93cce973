// Test harness: a real Admin API over HTTP on 127.0.0.1, backed by PGlite (temp dir) or by a
// fresh Postgres database created from TEST_DATABASE_URL and dropped afterwards.
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import pg from "pg";
import { createAdminClient, type AdminClient } from "../../sdk/client.js";
import { clientIpKey } from "../../server/src/admin/context.js";
import { adminRoutes } from "../../server/src/admin/service.js";
import { createLocalRuntime, type AdminRuntime, type LocalRuntime } from "../../server/src/admin/runtime.js";
import type { KeygateConfig } from "../../server/src/config/types.js";
import { createProviderCatalog, type ProviderCatalog } from "../../server/src/providers/catalog.js";
import { createKeyring, type Keyring } from "../../server/src/secrets/seal.js";
import { openDatabase, type OpenDatabase } from "../../server/src/store/db.js";
import { MIGRATIONS } from "../../server/src/store/migrate.js";

export type Backend = "pglite" | "postgres";

/** PGlite always; Postgres too when TEST_DATABASE_URL is set (then it is required to work). */
export const BACKENDS: Backend[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

/** A complete, valid configuration with no providers; override whole sections as needed. */
export function testConfig(overrides: Partial<KeygateConfig> = {}, dataDir = ""): KeygateConfig {
  const base: KeygateConfig = {
    server: {
      host: "127.0.0.1",
      port: 0,
      bodyLimitBytes: 10 * 1024 * 1024,
      workers: 1,
      shutdownGraceMs: 1000,
      headersTimeoutMs: 60_000,
      replicaId: "test-replica",
    },
    database: { dataDir },
    redis: {
      onOutage: "local",
      keyPrefix: `kgtest:${randomBytes(4).toString("hex")}:`,
      commandTimeoutMs: 2000,
    },
    secrets: { previousKeys: {} },
    admin: { tokens: [] },
    providers: {},
    routing: {
      chain: [],
      rules: [],
      aliases: {},
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 100, maxRetryAfterMs: 1000 },
      breaker: { failureThreshold: 5, windowMs: 30_000, cooldownMs: 15_000 },
    },
    rateLimiting: {},
    auth: { type: "bearer", tokens: [] },
    security: { allowedIPs: [], trustedProxies: [] },
    tls: { enabled: false },
    logging: { level: "silent", requests: false, includePrompts: false },
    pricing: {},
    budgets: { unpricedModels: "refuse" },
    usage: { queueLimit: 1000, batchSize: 100, flushIntervalMs: 50 },
    capture: { retentionDays: 7, maxBodyBytes: 1024 * 1024 },
  };
  return { ...base, ...overrides };
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database `kg_test_<random>` next to the one `baseUrl` names. */
export async function createScratchDatabase(
  baseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
): Promise<ScratchDatabase> {
  const name = `kg_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestDatabase {
  open: OpenDatabase;
  dataDir: string;
  /** Set for Postgres: the scratch database's URL. */
  url?: string;
  cleanup(): Promise<void>;
}

let template: Promise<string> | undefined;

/**
 * A migrated, closed PGlite data directory, shared by test processes and runs (keyed by the
 * migrations' code), because copying it is much faster than PGlite's initdb on every start.
 */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const code = Object.entries(MIGRATIONS).map(([name, m]) => name + m.up.toString());
    const version = createHash("sha256").update(code.join("\n")).digest("hex").slice(0, 12);
    const final = join(tmpdir(), `keygate-pglite-template-${version}`);
    if (existsSync(join(final, "pgdata"))) return join(final, "pgdata");
    const building = mkdtempSync(join(tmpdir(), "keygate-template-"));
    try {
      const open = await openDatabase({ dataDir: building });
      await open.close();
      // Atomic publish; if another process won the race, use theirs.
      renameSync(building, final);
    } catch (err) {
      rmSync(building, { recursive: true, force: true });
      if (!existsSync(join(final, "pgdata"))) throw err;
    }
    return join(final, "pgdata");
  })();
  return template;
}

/** A migrated database of the given kind, private to the caller. */
export async function openTestDatabase(backend: Backend): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), "keygate-test-"));
  let scratch: ScratchDatabase | undefined;
  let open: OpenDatabase;
  try {
    if (backend === "pglite") cpSync(await pgliteTemplate(), join(dataDir, "pgdata"), { recursive: true });
    scratch = backend === "postgres" ? await createScratchDatabase() : undefined;
    open = await openDatabase({ dataDir, ...(scratch ? { url: scratch.url } : {}) });
  } catch (err) {
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    open,
    dataDir,
    ...(scratch ? { url: scratch.url } : {}),
    async cleanup() {
      await open.close();
      await scratch?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AdminServerOptions {
  backend?: Backend;
  /** Sections to override in testConfig(). */
  config?: Partial<KeygateConfig>;
  clock?: () => Date;
  /** The bootstrap admin token (default: a random kg_admin_ value). */
  adminToken?: string;
  /** Replace the local runtime (status, watch, limits, probes, breakers). */
  runtime?: AdminRuntime;
  /** Reuse an open database instead of creating one (the caller closes it). */
  database?: TestDatabase;
}

export interface AdminServer {
  baseUrl: string;
  /** The bootstrap admin token. */
  adminToken: string;
  /** A client with the given token (default: the bootstrap admin token). */
  client(token?: string): AdminClient;
  db: OpenDatabase["db"];
  database: TestDatabase;
  config: KeygateConfig;
  keyring: Keyring;
  catalog: ProviderCatalog;
  /** The local runtime; publish() feeds WatchRequests. Undefined when a runtime was passed in. */
  runtime?: LocalRuntime;
  close(): Promise<void>;
}

export async function startAdminServer(opts: AdminServerOptions = {}): Promise<AdminServer> {
  const database = opts.database ?? (await openTestDatabase(opts.backend ?? "pglite"));
  try {
    return await serve(database, opts);
  } catch (err) {
    if (!opts.database) await database.cleanup();
    throw err;
  }
}

async function serve(database: TestDatabase, opts: AdminServerOptions): Promise<AdminServer> {
  const config = testConfig(opts.config, database.dataDir);
  if (database.url) config.database.url = database.url;
  const keyring = createKeyring(randomBytes(32));
  const db = database.open.db;
  const catalog = createProviderCatalog({ db, config, keyring });
  await catalog.reload();
  const local = opts.runtime
    ? undefined
    : createLocalRuntime({
        db,
        databaseKind: database.open.kind,
        replicaId: config.server.replicaId,
        version: "test",
        ...(opts.clock ? { clock: opts.clock } : {}),
      });
  const adminToken = opts.adminToken ?? `kg_admin_${randomBytes(32).toString("base64url")}`;
  const handler = connectNodeAdapter({
    routes: adminRoutes({
      db,
      config,
      keyring,
      catalog,
      runtime: opts.runtime ?? (local as LocalRuntime),
      adminToken,
      ...(opts.clock ? { clock: opts.clock } : {}),
    }),
    contextValues: (req) => createContextValues().set(clientIpKey, req.socket.remoteAddress ?? ""),
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    adminToken,
    client: (token = adminToken) => createAdminClient({ baseUrl, token }),
    db,
    database,
    config,
    keyring,
    catalog,
    ...(local ? { runtime: local } : {}),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!opts.database) await database.cleanup();
    },
  };
}
