// Virtual keys. Only the SHA-256 of a secret is stored; a rotation keeps the previous hash
// valid until its grace period ends.
import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { notifyChange } from "./notify.js";
import { toPage, type Page } from "./page.js";
import type { BudgetJson, Database, InstanceRow, RateLimitJson, VirtualKeyRow } from "./schema.js";
import { inTransaction } from "./tx.js";

type DB = Kysely<Database>;

/** A new key id: "key_" and 16 random hex digits. Not secret. */
export function newKeyId(): string {
  return "key_" + randomBytes(8).toString("hex");
}

export interface KeyPolicyFields {
  displayName: string;
  allowedModels: string[];
  sourceCidrs: string[];
  rateLimit: RateLimitJson;
  budgets: BudgetJson[];
  tag: string;
  expiresAt: Date | null;
}

export interface NewKey extends KeyPolicyFields {
  id: string;
  instanceId: string;
  prefix: string;
  secretHash: string;
}

/** Inserts a key; an unknown instance raises a foreign-key violation (see errors.ts). */
export async function createKey(db: DB, k: NewKey, now: Date): Promise<VirtualKeyRow> {
  return db
    .insertInto("virtual_keys")
    .values({
      id: k.id,
      instance_id: k.instanceId,
      prefix: k.prefix,
      display_name: k.displayName,
      secret_hash: k.secretHash,
      allowed_models: JSON.stringify(k.allowedModels),
      source_cidrs: JSON.stringify(k.sourceCidrs),
      rate_limit: JSON.stringify(k.rateLimit),
      budgets: JSON.stringify(k.budgets),
      tag: k.tag,
      expires_at: k.expiresAt,
      create_time: now,
      update_time: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getKey(db: DB, id: string): Promise<VirtualKeyRow | undefined> {
  return db.selectFrom("virtual_keys").selectAll().where("id", "=", id).executeTakeFirst();
}

export interface ListKeysQuery {
  limit: number;
  after?: string;
  instanceId?: string;
  includeRevoked?: boolean;
}

export async function listKeys(db: DB, q: ListKeysQuery): Promise<Page<VirtualKeyRow, string>> {
  let query = db
    .selectFrom("virtual_keys")
    .selectAll()
    .orderBy("id")
    .limit(q.limit + 1);
  if (q.after !== undefined) query = query.where("id", ">", q.after);
  if (q.instanceId) query = query.where("instance_id", "=", q.instanceId);
  if (!q.includeRevoked) query = query.where("revoked_at", "is", null);
  return toPage(await query.execute(), q.limit, (r) => r.id);
}

export async function updateKey(
  db: DB,
  id: string,
  patch: Partial<KeyPolicyFields>,
  now: Date,
): Promise<VirtualKeyRow | undefined> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .updateTable("virtual_keys")
      .set({
        ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}),
        ...(patch.allowedModels !== undefined ? { allowed_models: JSON.stringify(patch.allowedModels) } : {}),
        ...(patch.sourceCidrs !== undefined ? { source_cidrs: JSON.stringify(patch.sourceCidrs) } : {}),
        ...(patch.rateLimit !== undefined ? { rate_limit: JSON.stringify(patch.rateLimit) } : {}),
        ...(patch.budgets !== undefined ? { budgets: JSON.stringify(patch.budgets) } : {}),
        ...(patch.tag !== undefined ? { tag: patch.tag } : {}),
        ...(patch.expiresAt !== undefined ? { expires_at: patch.expiresAt } : {}),
        update_time: now,
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (row) await notifyChange(trx, { kind: "key", id });
    return row;
  });
}

/** Marks the key revoked (only if it is not already). Undefined when nothing changed. */
export async function revokeKey(db: DB, id: string, now: Date): Promise<VirtualKeyRow | undefined> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .updateTable("virtual_keys")
      .set({ revoked_at: now, previous_hash: null, previous_expires_at: null, update_time: now })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .returningAll()
      .executeTakeFirst();
    if (row) await notifyChange(trx, { kind: "key", id });
    return row;
  });
}

export interface Rotation {
  secretHash: string;
  prefix: string;
  /** Until when the replaced secret keeps working; null revokes it at once. */
  previousExpiresAt: Date | null;
}

/** Replaces the secret of a live key. Undefined when the key is missing or revoked. */
export async function rotateKey(
  db: DB,
  id: string,
  r: Rotation,
  now: Date,
): Promise<VirtualKeyRow | undefined> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .updateTable("virtual_keys")
      .set((eb) => ({
        secret_hash: r.secretHash,
        prefix: r.prefix,
        previous_hash: r.previousExpiresAt ? eb.ref("secret_hash") : null,
        previous_expires_at: r.previousExpiresAt,
        update_time: now,
      }))
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .returningAll()
      .executeTakeFirst();
    if (row) await notifyChange(trx, { kind: "key", id });
    return row;
  });
}

export async function deleteKey(db: DB, id: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const res = await trx.deleteFrom("virtual_keys").where("id", "=", id).executeTakeFirst();
    const deleted = res.numDeletedRows > 0n;
    if (deleted) await notifyChange(trx, { kind: "key", id });
    return deleted;
  });
}

export interface KeyForAuth {
  key: VirtualKeyRow;
  instance: InstanceRow;
  /** True when the presented secret is the one replaced by the last rotation. */
  viaPrevious: boolean;
}

/**
 * The key whose current secret, or whose previous secret still in its grace period, hashes to
 * `hash`, joined with its instance. Revocation, expiry and the instance's disabled flag are
 * left to the caller, which reports each differently.
 */
export async function findKeyForAuth(
  db: DB,
  hash: string,
  now: Date = new Date(),
): Promise<KeyForAuth | undefined> {
  const row = await db
    .selectFrom("virtual_keys as k")
    .innerJoin("instances as i", "i.id", "k.instance_id")
    .selectAll("k")
    .select([
      "i.id as i_id",
      "i.display_name as i_display_name",
      "i.labels as i_labels",
      "i.disabled as i_disabled",
      "i.policy as i_policy",
      "i.tag as i_tag",
      "i.capture_mode as i_capture_mode",
      "i.create_time as i_create_time",
      "i.update_time as i_update_time",
    ])
    .where((eb) =>
      eb.or([
        eb("k.secret_hash", "=", hash),
        eb.and([eb("k.previous_hash", "=", hash), eb("k.previous_expires_at", ">", now)]),
      ]),
    )
    .executeTakeFirst();
  if (!row) return undefined;
  const {
    i_id,
    i_display_name,
    i_labels,
    i_disabled,
    i_policy,
    i_tag,
    i_capture_mode,
    i_create_time,
    i_update_time,
    ...key
  } = row;
  return {
    key,
    instance: {
      id: i_id,
      display_name: i_display_name,
      labels: i_labels,
      disabled: i_disabled,
      policy: i_policy,
      tag: i_tag,
      capture_mode: i_capture_mode,
      create_time: i_create_time,
      update_time: i_update_time,
    },
    viaPrevious: key.secret_hash !== hash,
  };
}

/** Records last use of many keys in one statement; never moves a timestamp backwards. */
export async function touchLastUsed(db: DB, lastUsed: ReadonlyMap<string, Date>): Promise<void> {
  if (lastUsed.size === 0) return;
  const ids = [...lastUsed.keys()];
  const times = ids.map((id) => (lastUsed.get(id) as Date).toISOString());
  await sql`
    update virtual_keys as k
    set last_used_at = v.t
    from unnest(${ids}::text[], ${times}::timestamptz[]) as v(id, t)
    where k.id = v.id and (k.last_used_at is null or k.last_used_at < v.t)`.execute(db);
}
