// The initial schema: every table of schema.ts, with indexes for the Admin API's queries and
// the hot path's key lookups.
import { sql, type Kysely, type Migration } from "kysely";

const now = sql`now()`;

// Migrations see the database as it was when they were written, hence Kysely<unknown>.
async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("instances")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("display_name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("labels", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("disabled", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("policy", "jsonb", (c) => c.notNull())
    .addColumn("tag", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("capture_mode", "text", (c) => c.notNull().defaultTo("none"))
    .addColumn("create_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("update_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable("virtual_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("instance_id", "text", (c) => c.notNull().references("instances.id").onDelete("cascade"))
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("previous_hash", "text")
    .addColumn("previous_expires_at", "timestamptz")
    .addColumn("allowed_models", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("source_cidrs", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("rate_limit", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("budgets", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("tag", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("expires_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .addColumn("last_used_at", "timestamptz")
    .addColumn("create_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("update_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex("virtual_keys_secret_hash")
    .unique()
    .on("virtual_keys")
    .column("secret_hash")
    .execute();
  await db.schema
    .createIndex("virtual_keys_previous_hash")
    .on("virtual_keys")
    .column("previous_hash")
    .where(sql.ref("previous_hash"), "is not", null)
    .execute();
  await db.schema
    .createIndex("virtual_keys_instance")
    .on("virtual_keys")
    .columns(["instance_id", "id"])
    .execute();

  await db.schema
    .createTable("providers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("base_url", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("models", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("sealed_credential", "text")
    .addColumn("credential_fingerprint", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("is_default", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("weight", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("timeouts", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("create_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("update_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable("usage_records")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("time", "timestamptz", (c) => c.notNull())
    .addColumn("instance_id", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("provider_id", "text", (c) => c.notNull())
    .addColumn("api", "text", (c) => c.notNull())
    .addColumn("requested_model", "text", (c) => c.notNull())
    .addColumn("served_model", "text", (c) => c.notNull())
    .addColumn("input_tokens", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("output_tokens", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cache_read_tokens", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cache_write_tokens", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("cost_usd", "double precision")
    .addColumn("status_code", "integer", (c) => c.notNull())
    .addColumn("error_class", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("latency_ms", "double precision", (c) => c.notNull())
    .addColumn("ttfb_ms", "double precision")
    .addColumn("stream", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("client_ip", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("user_agent", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("fallback", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("attempts", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("replica_id", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  // (time, id) also serves keyset pagination newest first.
  await db.schema.createIndex("usage_records_time").on("usage_records").columns(["time", "id"]).execute();
  for (const col of ["instance_id", "key_id", "provider_id", "requested_model"]) {
    await db.schema
      .createIndex(`usage_records_${col}_time`)
      .on("usage_records")
      .columns([col, "time"])
      .execute();
  }

  await db.schema
    .createTable("captures")
    .addColumn("request_id", "text", (c) => c.primaryKey())
    .addColumn("time", "timestamptz", (c) => c.notNull())
    .addColumn("instance_id", "text", (c) => c.notNull())
    .addColumn("request_body", "text", (c) => c.notNull())
    .addColumn("response_body", "text", (c) => c.notNull())
    .addColumn("truncated", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("captures_expires_at").on("captures").column("expires_at").execute();

  await db.schema
    .createTable("routes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("priority", "integer", (c) => c.notNull())
    .addColumn("match", "jsonb", (c) => c.notNull())
    .addColumn("provider_id", "text", (c) => c.notNull())
    .addColumn("model", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("create_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex("routes_priority").on("routes").columns(["priority", "id"]).execute();

  await db.schema
    .createTable("aliases")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("targets", "jsonb", (c) => c.notNull())
    .addColumn("create_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("update_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();

  // Zero-padded sequence numbers: ids sort as text in the order events were written, which
  // orders events of one transaction (same time) in newest-first listings.
  await sql`create sequence audit_events_seq`.execute(db);
  await db.schema
    .createTable("audit_events")
    .addColumn("id", "text", (c) =>
      c.primaryKey().defaultTo(sql`lpad(nextval('audit_events_seq')::text, 20, '0')`),
    )
    .addColumn("time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("actor_role", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("client_ip", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("details", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").columns(["time", "id"]).execute();

  await db.schema
    .createTable("admin_tokens")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("create_time", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
}

async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    "admin_tokens",
    "audit_events",
    "aliases",
    "routes",
    "captures",
    "usage_records",
    "providers",
    "virtual_keys",
    "instances",
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
  await sql`drop sequence if exists audit_events_seq`.execute(db);
}

export const m0001Initial: Migration = { up, down };
