// Routing rules and aliases created through the Admin API (the config file's are read-only and
// are not stored). Every change notifies replicas to rebuild their routing table.
import { randomBytes } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import { notifyChange } from "./notify.js";
import type { AliasesTable, Database, RoutesTable } from "./schema.js";
import { inTransaction } from "./tx.js";

type DB = Kysely<Database>;
export type RouteRow = Selectable<RoutesTable>;
export type AliasRow = Selectable<AliasesTable>;
export type RouteMatchJson = { maxTokens?: number; tag?: string; model?: string; default?: boolean };
export type AliasTargetJson = { provider: string; model: string; weight: number };

export function newRouteId(): string {
  return "route_" + randomBytes(6).toString("hex");
}

/** Rules in evaluation order: ascending priority, then id. */
export async function listRoutes(db: DB): Promise<RouteRow[]> {
  return db.selectFrom("routes").selectAll().orderBy("priority").orderBy("id").execute();
}

export interface NewRoute {
  id: string;
  priority: number;
  match: RouteMatchJson;
  providerId: string;
  model: string;
}

export async function createRoute(db: DB, r: NewRoute, now: Date): Promise<RouteRow> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto("routes")
      .values({
        id: r.id,
        priority: r.priority,
        match: JSON.stringify(r.match),
        provider_id: r.providerId,
        model: r.model,
        create_time: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifyChange(trx, { kind: "routing", id: r.id });
    return row;
  });
}

export async function deleteRoute(db: DB, id: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const res = await trx.deleteFrom("routes").where("id", "=", id).executeTakeFirst();
    const deleted = res.numDeletedRows > 0n;
    if (deleted) await notifyChange(trx, { kind: "routing", id });
    return deleted;
  });
}

export async function listAliases(db: DB): Promise<AliasRow[]> {
  return db.selectFrom("aliases").selectAll().orderBy("name").execute();
}

/** Creates or replaces an alias. */
export async function setAlias(
  db: DB,
  name: string,
  targets: AliasTargetJson[],
  now: Date,
): Promise<AliasRow> {
  return inTransaction(db, async (trx) => {
    const json = JSON.stringify(targets);
    const row = await trx
      .insertInto("aliases")
      .values({ name, targets: json, create_time: now, update_time: now })
      .onConflict((oc) => oc.column("name").doUpdateSet({ targets: json, update_time: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifyChange(trx, { kind: "routing", id: name });
    return row;
  });
}

export async function deleteAlias(db: DB, name: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const res = await trx.deleteFrom("aliases").where("name", "=", name).executeTakeFirst();
    const deleted = res.numDeletedRows > 0n;
    if (deleted) await notifyChange(trx, { kind: "routing", id: name });
    return deleted;
  });
}
