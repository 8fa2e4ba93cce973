// Providers created through the Admin API. Credentials are stored sealed (see secrets/seal.ts)
// with a non-secret fingerprint beside them.
import type { Kysely } from "kysely";
import { notifyChange } from "./notify.js";
import type { Database, ProviderRow } from "./schema.js";
import { inTransaction } from "./tx.js";

type DB = Kysely<Database>;

export type ProviderTimeoutsJson = {
  connectMs?: number;
  firstByteMs?: number;
  idleMs?: number;
  totalMs?: number;
};

export interface ProviderFields {
  type: string;
  baseUrl: string;
  models: string[];
  /** The envelope from seal(); null when the provider needs no credential. */
  sealedCredential: string | null;
  credentialFingerprint: string;
  isDefault: boolean;
  weight: number;
  timeouts: ProviderTimeoutsJson;
}

export async function createProvider(db: DB, id: string, f: ProviderFields, now: Date): Promise<ProviderRow> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto("providers")
      .values({
        id,
        type: f.type,
        base_url: f.baseUrl,
        models: JSON.stringify(f.models),
        sealed_credential: f.sealedCredential,
        credential_fingerprint: f.credentialFingerprint,
        is_default: f.isDefault,
        weight: f.weight,
        timeouts: JSON.stringify(f.timeouts),
        create_time: now,
        update_time: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifyChange(trx, { kind: "provider", id });
    return row;
  });
}

export async function getProvider(db: DB, id: string): Promise<ProviderRow | undefined> {
  return db.selectFrom("providers").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Every API provider, by id. The table is small: the catalog loads it whole. */
export async function listProviders(db: DB): Promise<ProviderRow[]> {
  return db.selectFrom("providers").selectAll().orderBy("id").execute();
}

export async function updateProvider(
  db: DB,
  id: string,
  patch: Partial<ProviderFields>,
  now: Date,
): Promise<ProviderRow | undefined> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .updateTable("providers")
      .set({
        ...(patch.type !== undefined ? { type: patch.type } : {}),
        ...(patch.baseUrl !== undefined ? { base_url: patch.baseUrl } : {}),
        ...(patch.models !== undefined ? { models: JSON.stringify(patch.models) } : {}),
        ...(patch.sealedCredential !== undefined ? { sealed_credential: patch.sealedCredential } : {}),
        ...(patch.credentialFingerprint !== undefined
          ? { credential_fingerprint: patch.credentialFingerprint }
          : {}),
        ...(patch.isDefault !== undefined ? { is_default: patch.isDefault } : {}),
        ...(patch.weight !== undefined ? { weight: patch.weight } : {}),
        ...(patch.timeouts !== undefined ? { timeouts: JSON.stringify(patch.timeouts) } : {}),
        update_time: now,
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (row) await notifyChange(trx, { kind: "provider", id });
    return row;
  });
}

/** Makes `id` the only default API provider (a request without a routable model goes there). */
export async function clearOtherDefaults(db: DB, id: string, now: Date): Promise<void> {
  return inTransaction(db, async (trx) => {
    const rows = await trx
      .updateTable("providers")
      .set({ is_default: false, update_time: now })
      .where("is_default", "=", true)
      .where("id", "!=", id)
      .returning("id")
      .execute();
    for (const r of rows) await notifyChange(trx, { kind: "provider", id: r.id });
  });
}

export async function deleteProvider(db: DB, id: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const res = await trx.deleteFrom("providers").where("id", "=", id).executeTakeFirst();
    const deleted = res.numDeletedRows > 0n;
    if (deleted) await notifyChange(trx, { kind: "provider", id });
    return deleted;
  });
}

/** Re-seals credentials written under an older master key (after a rotation). */
export async function resealProviders(
  db: DB,
  needsReseal: (row: ProviderRow) => string | null | undefined,
  now: Date,
): Promise<number> {
  return inTransaction(db, async (trx) => {
    let n = 0;
    for (const row of await trx.selectFrom("providers").selectAll().execute()) {
      const sealed = needsReseal(row);
      if (sealed === undefined) continue;
      await trx
        .updateTable("providers")
        .set({ sealed_credential: sealed, update_time: now })
        .where("id", "=", row.id)
        .execute();
      await notifyChange(trx, { kind: "provider", id: row.id });
      n++;
    }
    return n;
  });
}
