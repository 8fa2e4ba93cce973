// Change notifications: every mutation that affects authentication or routing announces itself
// on one channel, in the same transaction, so replicas evict cached state only once it is committed.
import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export const CHANGES_CHANNEL = "keygate_changes";

export type ChangeKind = "key" | "instance" | "provider" | "routing" | "admin_token";

export interface ChangeEvent {
  kind: ChangeKind;
  /** The id of the changed row (key id, instance id, provider id, route id or alias name, token name). */
  id: string;
  /** Unique per notification, so the sender can tell when its own listener has applied it. */
  nonce?: string;
}

// Changes notified inside a transaction, keyed by the transaction object, so the caller can wait
// for them once committed. (Not AsyncLocalStorage: enabling it puts promise hooks on every request.)
const collectors = new WeakMap<Kysely<Database>, ChangeEvent[]>();

/** Collects every change notified through `trx` into `into`. */
export function collectChanges(trx: Kysely<Database>, into: ChangeEvent[]): void {
  collectors.set(trx, into);
}

export async function notifyChange(db: Kysely<Database>, change: ChangeEvent): Promise<void> {
  const event = { kind: change.kind, id: change.id, nonce: randomUUID() };
  collectors.get(db)?.push(event);
  await sql`select pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(event)})`.execute(db);
}

const KINDS: ReadonlySet<string> = new Set<ChangeKind>([
  "key",
  "instance",
  "provider",
  "routing",
  "admin_token",
]);

/** Parses a notification payload; undefined for anything this version does not understand. */
export function parseChange(payload: string): ChangeEvent | undefined {
  try {
    const v: unknown = JSON.parse(payload);
    if (typeof v !== "object" || v === null) return undefined;
    const { kind, id, nonce } = v as Record<string, unknown>;
    if (typeof kind !== "string" || !KINDS.has(kind) || typeof id !== "string") return undefined;
    return { kind: kind as ChangeKind, id, ...(typeof nonce === "string" ? { nonce } : {}) };
  } catch {
    return undefined;
  }
}
