// Read-your-writes across replicas. Every replica acknowledges each change it has applied on a
// second channel; the replica that made the change answers its Admin API call only once every
// connected replica has acknowledged it (bounded, so a stuck replica cannot hang the API — such a
// replica's own heartbeat stops it trusting its cache within seconds). "Revoked" then means
// revoked everywhere by the time the caller hears so.
import { sql } from "kysely";
import type { DB } from "../store/db.js";
import { ACKS_CHANNEL, LISTENER_APPLICATION_NAME } from "./changes.js";

export interface Propagation {
  /** This replica applied the change with this nonce: tell the others. */
  ack(nonce: string): void;
  /** A replica acknowledged a change (from the acks channel). */
  received(nonce: string, replicaId: string): void;
  /** Resolves once every connected replica acknowledged these changes, or after timeoutMs. */
  waitFor(nonces: string[], timeoutMs: number): Promise<void>;
}

const RECENT_LIMIT = 2000;

export function createPropagation(opts: {
  db: DB;
  replicaId: string;
  onError: (err: Error) => void;
}): Propagation {
  // Acks can arrive before anyone waits for them: remember recent ones.
  const acks = new Map<string, Set<string>>();
  const waiters = new Set<() => void>();

  const ackCount = (nonce: string): number => acks.get(nonce)?.size ?? 0;

  async function listeners(): Promise<number> {
    const r = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`.execute(
      opts.db,
    );
    return r.rows[0]?.n ?? 1;
  }

  return {
    ack(nonce) {
      const payload = JSON.stringify({ nonce, replica: opts.replicaId });
      sql`select pg_notify(${ACKS_CHANNEL}, ${payload})`.execute(opts.db).catch(opts.onError);
    },
    received(nonce, replicaId) {
      let set = acks.get(nonce);
      if (!set) {
        if (acks.size >= RECENT_LIMIT) acks.delete(acks.keys().next().value!);
        set = new Set();
        acks.set(nonce, set);
      }
      set.add(replicaId);
      for (const w of waiters) w();
    },
    async waitFor(nonces, timeoutMs) {
      if (nonces.length === 0) return;
      const deadline = Date.now() + timeoutMs;
      let expected: number;
      try {
        expected = await listeners();
      } catch (err) {
        opts.onError(err as Error);
        return;
      }
      const done = (): boolean => nonces.every((n) => ackCount(n) >= expected);
      while (!done() && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
          waiters.add(wake);
        });
      }
    },
  };
}
