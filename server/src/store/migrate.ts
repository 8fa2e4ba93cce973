// Runs the schema migrations at start-up. kysely's Migrator takes a Postgres advisory lock, so
// replicas starting together against one database migrate once and the others wait.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { m0001Initial } from "./migrations/0001_initial.js";
import type { Database } from "./schema.js";

/** Every migration, in order. Add new ones at the end; never edit a released one. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001_initial": m0001Initial,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed ?? ""} failed: ${reason}`.replace("  ", " "));
  }
}
