// Admin tokens created through the Admin API. Only the SHA-256 of the token is stored.
import type { Kysely, Selectable } from "kysely";
import { notifyChange } from "./notify.js";
import type { AdminTokensTable, Database } from "./schema.js";
import { inTransaction } from "./tx.js";

type DB = Kysely<Database>;
export type AdminTokenRow = Selectable<AdminTokensTable>;

export interface NewAdminToken {
  name: string;
  role: AdminTokenRow["role"];
  tokenHash: string;
  prefix: string;
}

export async function createAdminToken(db: DB, t: NewAdminToken, now: Date): Promise<AdminTokenRow> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto("admin_tokens")
      .values({ name: t.name, role: t.role, token_hash: t.tokenHash, prefix: t.prefix, create_time: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifyChange(trx, { kind: "admin_token", id: t.name });
    return row;
  });
}

export async function listAdminTokens(db: DB): Promise<AdminTokenRow[]> {
  return db.selectFrom("admin_tokens").selectAll().orderBy("name").execute();
}

export async function findAdminTokenByHash(db: DB, hash: string): Promise<AdminTokenRow | undefined> {
  return db.selectFrom("admin_tokens").selectAll().where("token_hash", "=", hash).executeTakeFirst();
}

export async function deleteAdminToken(db: DB, name: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const res = await trx.deleteFrom("admin_tokens").where("name", "=", name).executeTakeFirst();
    const deleted = res.numDeletedRows > 0n;
    if (deleted) await notifyChange(trx, { kind: "admin_token", id: name });
    return deleted;
  });
}
