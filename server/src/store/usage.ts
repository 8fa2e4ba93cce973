// Writes usage records in batches (the background writer's one statement per batch) and
// expires captured bodies.
import { sql, type Insertable, type Kysely } from "kysely";
import type { UsageRecord } from "../usage/record.js";
import type { CapturesTable, Database, UsageRecordRow } from "./schema.js";
import { inTransaction } from "./tx.js";

type DB = Kysely<Database>;

// 24 parameters per row; Postgres allows 65535 per statement.
const MAX_ROWS_PER_STATEMENT = 2000;
const DAY_MS = 86_400_000;

export interface InsertUsageOptions {
  /** How long captured bodies are kept (default 7 days). */
  captureRetentionDays?: number;
}

/** A record as the usage_records row it becomes (attempts still as data). */
export function toUsageColumns(r: UsageRecord): UsageRecordRow {
  return {
    id: r.id,
    time: r.time,
    instance_id: r.instanceId,
    key_id: r.keyId,
    provider_id: r.providerId,
    api: r.api,
    requested_model: r.requestedModel,
    served_model: r.servedModel,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cache_read_tokens: r.cacheReadTokens,
    cache_write_tokens: r.cacheWriteTokens,
    cost_usd: r.costUsd,
    status_code: r.statusCode,
    error_class: r.errorClass,
    latency_ms: r.latencyMs,
    ttfb_ms: r.ttfbMs,
    stream: r.stream,
    client_ip: r.clientIp,
    user_agent: r.userAgent,
    fallback: r.fallback,
    attempts: r.attempts,
    replica_id: r.replicaId,
  };
}

/**
 * Inserts a batch: one multi-row insert into usage_records and one into captures, in one
 * transaction. Ids already present are skipped, so retrying a batch whose commit was not
 * acknowledged never double-counts.
 */
/**
 * One statement for a whole batch, passed as a single JSON parameter: JSON.stringify is native and
 * fast, where binding hundreds of values (or arrays the driver escapes element by element) costs
 * milliseconds of event-loop time per batch, which showed up in the gateway's tail latency.
 */
async function insertRecordColumns(db: DB, rs: readonly UsageRecord[]): Promise<void> {
  const rows = JSON.stringify(rs.map(toUsageColumns));
  await sql`
    insert into usage_records
    select * from json_populate_recordset(null::usage_records, ${rows}::json)
    on conflict (id) do nothing`.execute(db);
}

export async function insertUsageBatch(
  db: DB,
  records: readonly UsageRecord[],
  opts: InsertUsageOptions = {},
): Promise<void> {
  if (records.length === 0) return;
  const retentionMs = (opts.captureRetentionDays ?? 7) * DAY_MS;
  await inTransaction(db, async (trx) => {
    for (let i = 0; i < records.length; i += MAX_ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + MAX_ROWS_PER_STATEMENT);
      await insertRecordColumns(trx, chunk);
      const captures: Insertable<CapturesTable>[] = [];
      for (const r of chunk) {
        if (!r.capture) continue;
        captures.push({
          request_id: r.id,
          time: r.time,
          instance_id: r.instanceId,
          request_body: r.capture.requestBody,
          response_body: r.capture.responseBody,
          truncated: r.capture.truncated,
          expires_at: new Date(r.time.getTime() + retentionMs),
        });
      }
      if (captures.length > 0) {
        await trx
          .insertInto("captures")
          .values(captures)
          .onConflict((oc) => oc.column("request_id").doNothing())
          .execute();
      }
    }
  });
}

/** Deletes captures past their retention. Returns how many were removed. */
export async function deleteExpiredCaptures(db: DB, now: Date = new Date()): Promise<number> {
  const res = await db.deleteFrom("captures").where("expires_at", "<=", now).executeTakeFirst();
  return Number(res.numDeletedRows);
}
