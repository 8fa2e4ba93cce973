// Runs work in a transaction, joining the caller's transaction when there is one, so repository
// mutations (which notify in their own transaction) compose with the caller's audit write.
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.js";

export function inTransaction<T>(
  db: Kysely<Database>,
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute((trx: Transaction<Database>) => fn(trx));
}
