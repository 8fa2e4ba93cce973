// Instances: one per agent. Their policy, tag and disabled flag feed authentication, so every
// change notifies the replicas.
import { sql, type Kysely } from "kysely";
import { notifyChange } from "./notify.js";
import { toPage, type Page } from "./page.js";
import type { Database, InstanceRow, PolicyJson } from "./schema.js";
import { inTransaction } from "./tx.js";

export interface InstanceFields {
  displayName: string;
  labels: Record<string, string>;
  disabled: boolean;
  policy: PolicyJson;
  tag: string;
  captureMode: InstanceRow["capture_mode"];
}

type DB = Kysely<Database>;

/** Inserts an instance; a duplicate id raises a unique violation (see errors.ts). */
export async function createInstance(db: DB, id: string, f: InstanceFields, now: Date): Promise<InstanceRow> {
  return db
    .insertInto("instances")
    .values({
      id,
      display_name: f.displayName,
      labels: JSON.stringify(f.labels),
      disabled: f.disabled,
      policy: JSON.stringify(f.policy),
      tag: f.tag,
      capture_mode: f.captureMode,
      create_time: now,
      update_time: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getInstance(db: DB, id: string): Promise<InstanceRow | undefined> {
  return db.selectFrom("instances").selectAll().where("id", "=", id).executeTakeFirst();
}

export interface ListInstancesQuery {
  limit: number;
  /** Id of the last row of the previous page. */
  after?: string;
  /** Only instances carrying all these labels. */
  labels?: Record<string, string>;
}

export async function listInstances(db: DB, q: ListInstancesQuery): Promise<Page<InstanceRow, string>> {
  let query = db
    .selectFrom("instances")
    .selectAll()
    .orderBy("id")
    .limit(q.limit + 1);
  if (q.after !== undefined) query = query.where("id", ">", q.after);
  if (q.labels && Object.keys(q.labels).length > 0) {
    query = query.where(sql<boolean>`labels @> ${JSON.stringify(q.labels)}::jsonb`);
  }
  return toPage(await query.execute(), q.limit, (r) => r.id);
}

/** Applies the given fields; undefined when the instance does not exist. */
export async function updateInstance(
  db: DB,
  id: string,
  patch: Partial<InstanceFields>,
  now: Date,
): Promise<InstanceRow | undefined> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .updateTable("instances")
      .set({
        ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}),
        ...(patch.labels !== undefined ? { labels: JSON.stringify(patch.labels) } : {}),
        ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
        ...(patch.policy !== undefined ? { policy: JSON.stringify(patch.policy) } : {}),
        ...(patch.tag !== undefined ? { tag: patch.tag } : {}),
        ...(patch.captureMode !== undefined ? { capture_mode: patch.captureMode } : {}),
        update_time: now,
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (row) await notifyChange(trx, { kind: "instance", id });
    return row;
  });
}

/** Deletes the instance and (by cascade) its keys. Returns false when it did not exist. */
export async function deleteInstance(db: DB, id: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const keys = await trx.selectFrom("virtual_keys").select("id").where("instance_id", "=", id).execute();
    const res = await trx.deleteFrom("instances").where("id", "=", id).executeTakeFirst();
    const deleted = res.numDeletedRows > 0n;
    if (!deleted) return false;
    await notifyChange(trx, { kind: "instance", id });
    // Replicas cache keys by hash; name each cascaded key so none outlives its instance.
    for (const k of keys) await notifyChange(trx, { kind: "key", id: k.id });
    return true;
  });
}
