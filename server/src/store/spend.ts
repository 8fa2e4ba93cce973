// Spend already recorded for a limit scope since a time: how the limiter seeds a budget window it
// has no counter for (first use after a restart, or an expired Redis key).
import { sql } from "kysely";
import type { DB } from "./db.js";

export async function spendSince(db: DB, scopeId: string, since: Date): Promise<number> {
  const colon = scopeId.indexOf(":");
  const kind = scopeId.slice(0, colon);
  const id = scopeId.slice(colon + 1);
  // Static config tokens are recorded with key id and instance id "static:<name>".
  const column = kind === "instance" ? "instance_id" : "key_id";
  const value = kind === "token" ? `static:${id}` : id;
  if (kind !== "instance" && kind !== "key" && kind !== "token") return 0;
  const row = await db
    .selectFrom("usage_records")
    .select(sql<number | null>`sum(cost_usd)`.as("spent"))
    .where(column, "=", value)
    .where("time", ">=", since)
    .executeTakeFirst();
  return Number(row?.spent ?? 0);
}
