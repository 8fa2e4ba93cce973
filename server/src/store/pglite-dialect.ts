// A kysely dialect over embedded PGlite (in its worker thread, see embedded.ts). PGlite is a
// single Postgres session, so the driver hands its one connection to one caller at a time: a
// transaction holds it from BEGIN to COMMIT and every other query waits its turn. Code inside a
// transaction must therefore use the transaction handle, never the outer `db`, or it waits on
// itself.
import type { EmbeddedPostgres } from "./embedded.js";
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from "kysely";

/** A FIFO lock: each holder runs alone until it calls the release function it was given. */
function createMutex(): () => Promise<() => void> {
  let tail: Promise<void> = Promise.resolve();
  return () => {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const acquired = tail.then(() => release);
    tail = tail.then(() => next);
    return acquired;
  };
}

function createConnection(pglite: EmbeddedPostgres): DatabaseConnection {
  return {
    async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
      const res = await pglite.query<R>(compiled.sql, compiled.parameters);
      return {
        rows: res.rows,
        ...(res.affectedRows !== undefined ? { numAffectedRows: BigInt(res.affectedRows) } : {}),
      };
    },
    streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error("streaming queries are not supported on PGlite");
    },
  };
}

function createDriver(pglite: EmbeddedPostgres): Driver {
  const lock = createMutex();
  const connection = createConnection(pglite);
  // The mutex admits one holder at a time, so the holder's release is always the only one here.
  let release: (() => void) | undefined;
  return {
    async init() {},
    async acquireConnection() {
      const r = await lock();
      release = r;
      return connection;
    },
    async beginTransaction(conn, settings) {
      let text = "begin";
      if (settings.isolationLevel) text += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) text += ` ${settings.accessMode}`;
      await conn.executeQuery(CompiledQuery.raw(text));
    },
    async commitTransaction(conn) {
      await conn.executeQuery(CompiledQuery.raw("commit"));
    },
    async rollbackTransaction(conn) {
      await conn.executeQuery(CompiledQuery.raw("rollback"));
    },
    async releaseConnection() {
      const r = release;
      release = undefined;
      r?.();
    },
    async destroy() {},
  };
}

/** Kysely dialect for an embedded database the caller owns (and closes). */
export function pgliteDialect(pglite: EmbeddedPostgres): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => createDriver(pglite),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}
