// The audit log: one row per admin mutation. Details must never hold secret values.
import type { Kysely } from "kysely";
import { toPage, type Page, type TimeCursor } from "./page.js";
import type { AuditEventsTable, Database } from "./schema.js";
import type { Selectable } from "kysely";

type DB = Kysely<Database>;
export type AuditRow = Selectable<AuditEventsTable>;

export interface AuditEntry {
  time: Date;
  actor: string;
  actorRole: string;
  action: string;
  resource: string;
  clientIp: string;
  details: Record<string, unknown>;
}

export async function recordAudit(db: DB, e: AuditEntry): Promise<AuditRow> {
  return db
    .insertInto("audit_events")
    .values({
      time: e.time,
      actor: e.actor,
      actor_role: e.actorRole,
      action: e.action,
      resource: e.resource,
      client_ip: e.clientIp,
      details: JSON.stringify(e.details),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ListAuditQuery {
  limit: number;
  before?: TimeCursor;
  actor?: string;
  /** Prefix match on the action: "key." matches key.create and key.revoke. */
  actionPrefix?: string;
  start?: Date;
}

/** Escapes LIKE wildcards so a prefix matches literally. */
function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
}

export async function listAuditEvents(db: DB, q: ListAuditQuery): Promise<Page<AuditRow, TimeCursor>> {
  let query = db
    .selectFrom("audit_events")
    .selectAll()
    .orderBy("time", "desc")
    .orderBy("id", "desc")
    .limit(q.limit + 1);
  if (q.actor) query = query.where("actor", "=", q.actor);
  if (q.actionPrefix) query = query.where("action", "like", likePrefix(q.actionPrefix));
  if (q.start) query = query.where("time", ">=", q.start);
  const before = q.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([eb("time", "<", before.time), eb.and([eb("time", "=", before.time), eb("id", "<", before.id)])]),
    );
  }
  return toPage(await query.execute(), q.limit, (r) => ({ time: r.time, id: r.id }));
}
