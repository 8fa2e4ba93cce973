// Receives change notifications (Postgres LISTEN/NOTIFY on channel keygate_changes) so every
// replica evicts what another replica changed. The Postgres listener runs on its own connection;
// when it drops, `onState(false)` fires at once (the cache stops trusting itself) and the
// listener reconnects with backoff, firing `onState(true)` once it is subscribed again.
// A heartbeat catches links that die silently.
import pg from "pg";
import type { EmbeddedPostgres } from "../store/embedded.js";
import type { Logger } from "../log/logger.js";
import { CHANGES_CHANNEL, parseChange, type ChangeEvent } from "../store/notify.js";

export type { ChangeEvent };

/** The application_name of every replica's listener connection (counted to know who must ack). */
export const LISTENER_APPLICATION_NAME = "keygate-listener";

export interface ChangeListener {
  connected(): boolean;
  close(): Promise<void>;
}

interface ListenOptions {
  onEvent: (e: ChangeEvent) => void;
  /** Acknowledgements of applied changes from every replica (Postgres only). */
  onAck?: (nonce: string, replicaId: string) => void;
  onState: (connected: boolean) => void;
  logger: Logger;
  heartbeatMs?: number;
}

export const ACKS_CHANNEL = "keygate_acks";

function parseAck(payload: string): { nonce: string; replica: string } | undefined {
  try {
    const v = JSON.parse(payload) as { nonce?: unknown; replica?: unknown };
    return typeof v.nonce === "string" && typeof v.replica === "string"
      ? { nonce: v.nonce, replica: v.replica }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Embedded PGlite: one process, notifications are delivered in-process and never drop. */
export async function listenPglite(db: EmbeddedPostgres, opts: ListenOptions): Promise<ChangeListener> {
  const unlisten = await db.listen(CHANGES_CHANNEL, (payload) => {
    const e = parseChange(payload);
    if (e) opts.onEvent(e);
  });
  opts.onState(true);
  return { connected: () => true, close: () => unlisten() };
}

export function listenPostgres(url: string, opts: ListenOptions): ChangeListener {
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  let client: pg.Client | undefined;
  let isConnected = false;
  let closed = false;
  let attempt = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;

  function setConnected(v: boolean): void {
    if (v === isConnected) return;
    isConnected = v;
    opts.onState(v);
  }

  function drop(c: pg.Client, why: string): void {
    if (client !== c) return;
    client = undefined;
    if (heartbeat) clearInterval(heartbeat);
    setConnected(false);
    c.removeAllListeners();
    c.on("error", () => {});
    void c.end().catch(() => {});
    if (closed) return;
    const delay = Math.min(2000, 50 * 2 ** attempt++);
    opts.logger.warn(
      { reason: why, retryInMs: delay },
      "change notifications lost; re-validating keys against the database",
    );
    retry = setTimeout(connect, delay);
  }

  function connect(): void {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, application_name: LISTENER_APPLICATION_NAME });
    client = c;
    c.on("error", (err) => drop(c, err.message));
    c.on("end", () => drop(c, "connection ended"));
    c.on("notification", (msg) => {
      if (!msg.payload) return;
      if (msg.channel === ACKS_CHANNEL) {
        const a = parseAck(msg.payload);
        if (a) opts.onAck?.(a.nonce, a.replica);
        return;
      }
      const e = parseChange(msg.payload);
      if (e) opts.onEvent(e);
    });
    c.connect()
      .then(() => c.query(`LISTEN ${CHANGES_CHANNEL}; LISTEN ${ACKS_CHANNEL}`))
      .then(() => {
        if (client !== c) return;
        attempt = 0;
        setConnected(true);
        heartbeat = setInterval(() => {
          const timer = setTimeout(() => drop(c, "heartbeat timed out"), heartbeatMs);
          c.query("SELECT 1").then(
            () => clearTimeout(timer),
            (err: Error) => {
              clearTimeout(timer);
              drop(c, err.message);
            },
          );
        }, heartbeatMs);
        heartbeat.unref();
      })
      .catch((err: Error) => drop(c, err.message));
  }

  connect();
  return {
    connected: () => isConnected,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (heartbeat) clearInterval(heartbeat);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners();
        c.on("error", () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
