// Opens the database: a Postgres server through a pg.Pool when a URL is configured, otherwise
// embedded PGlite in the data directory. One schema and one set of migrations serve both.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { KeygateConfig } from "../config/types.js";
import { openEmbeddedPostgres, type EmbeddedPostgres } from "./embedded.js";
import { migrateToLatest } from "./migrate.js";
import { pgliteDialect } from "./pglite-dialect.js";
import type { Database } from "./schema.js";

export type DB = Kysely<Database>;

export interface OpenDatabase {
  db: DB;
  kind: "postgres" | "pglite";
  /** The embedded database (for LISTEN through PGlite's own API). */
  pglite?: EmbeddedPostgres;
  /** The Postgres URL (for a dedicated LISTEN connection). */
  url?: string;
  /** Postgres's connection pool (for COPY, which Kysely does not offer). */
  pool?: pg.Pool;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Run migrations before returning (default true). */
  migrate?: boolean;
  /** Pool size for Postgres (default 10). */
  poolSize?: number;
  /** Errors of idle pool connections (e.g. the server restarted); without a handler they would crash. */
  onPoolError?: (err: Error) => void;
}

const INT8_OID = 20;
// count(*) and sum(integer) come back as int8; token and request counts fit a double exactly.
const parseInt8 = (v: string): number => Number(v);

export async function openDatabase(
  cfg: KeygateConfig["database"],
  options: OpenDatabaseOptions = {},
): Promise<OpenDatabase> {
  const opened = cfg.url ? openPostgres(cfg.url, options) : await openPGlite(cfg.dataDir);
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(opened.db);
    } catch (err) {
      await opened.close();
      throw err;
    }
  }
  return opened;
}

function openPostgres(url: string, options: OpenDatabaseOptions): OpenDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID && format !== "binary"
          ? parseInt8
          : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
    },
  });
  pool.on("error", (err) => options.onPoolError?.(err));
  // pg-pool listens for errors only on idle clients. A connection that dies while checked out
  // (between the statements of a transaction, say) would emit an unhandled 'error' and take the
  // process down; the query in flight still fails on its own.
  pool.on("connect", (client) => client.on("error", (err) => options.onPoolError?.(err)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: "postgres",
    url,
    pool,
    close: () => db.destroy(),
  };
}

async function openPGlite(dataDir: string): Promise<OpenDatabase> {
  const dir = join(dataDir, "pgdata");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pglite = await openEmbeddedPostgres(dir);
  const db = new Kysely<Database>({ dialect: pgliteDialect(pglite) });
  return {
    db,
    kind: "pglite",
    pglite,
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
