// The embedded database as the gateway sees it: PGlite in a worker thread (pglite-worker.ts),
// reached by messages. Queries run in the order they are sent, as on one Postgres session.
import { Worker } from "node:worker_threads";
import type {
  EmbeddedError,
  EmbeddedReply,
  EmbeddedRequest,
  EmbeddedWorkerData,
} from "./embedded-protocol.js";

/** What the store needs from an embedded Postgres session. */
export interface EmbeddedPostgres {
  query<R>(sql: string, params: readonly unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  /** Delivers NOTIFY payloads on `channel`; resolves with the function that stops it. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** An error from the embedded database, with the SQLSTATE (`code`) callers classify by. */
export class EmbeddedDatabaseError extends Error {
  code?: string;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;

  constructor(e: EmbeddedError) {
    super(e.message);
    this.name = "EmbeddedDatabaseError";
    Object.assign(this, { ...e, message: e.message });
  }
}

/**
 * The worker's script: next to the bundle in dist/, or the built copy when this module runs from
 * source (the test runner), since worker threads do not go through the TypeScript loader.
 */
function workerScript(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts")
    ? new URL("../../../dist/pglite-worker.js", here)
    : new URL("./pglite-worker.js", here);
}

type Pending = { resolve: (r: EmbeddedReply) => void; reject: (err: Error) => void };
/** A request before it is numbered (Omit applied to each member of the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, "id"> : never;
type Request = Unnumbered<EmbeddedRequest>;

/** Starts PGlite on its own thread with its data in `dir`; resolves once it is open. */
export async function openEmbeddedPostgres(dir: string): Promise<EmbeddedPostgres> {
  const workerData: EmbeddedWorkerData = { dir };
  const worker = new Worker(workerScript(), { workerData });
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let nextId = 1;
  let gone: Error | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: EmbeddedReply) => {
      switch (m.kind) {
        case "ready":
          return resolve();
        case "failed":
          return reject(new EmbeddedDatabaseError(m.error));
        case "notify":
          for (const cb of listeners.get(m.channel) ?? []) cb(m.payload);
          return;
        default: {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (!p) return;
          if (m.kind === "error") p.reject(new EmbeddedDatabaseError(m.error));
          else p.resolve(m);
        }
      }
    });
    // A crashed worker fails everything in flight and everything after, instead of hanging.
    const fail = (err: Error): void => {
      gone ??= err;
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the embedded database thread exited (code ${code})`)));
  });
  await ready;

  const call = (req: Request): Promise<EmbeddedReply> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id } as EmbeddedRequest);
    });
  };

  return {
    async query<R>(sql: string, params: readonly unknown[]) {
      const r = await call({ op: "query", sql, params: [...params] });
      if (r.kind !== "result") throw new Error(`unexpected reply ${r.kind} to a query`);
      return {
        rows: r.rows as R[],
        ...(r.affectedRows !== undefined ? { affectedRows: r.affectedRows } : {}),
      };
    },
    async listen(channel, onPayload) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await call({ op: "listen", channel });
      }
      set.add(onPayload);
      return async () => {
        const s = listeners.get(channel);
        if (!s?.delete(onPayload) || s.size > 0) return;
        listeners.delete(channel);
        await call({ op: "unlisten", channel }).catch(() => undefined);
      };
    },
    async close() {
      if (!gone) await call({ op: "close" }).catch(() => undefined);
      await worker.terminate();
    },
  };
}
