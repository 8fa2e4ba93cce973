// Writes usage records in batches (the background writer's one statement per batch) and
// expires captured bodies.
import { sql, type Insertable, type Kysely } from "kysely";
import type pg from "pg";
import type { UsageRecord } from "../usage/record.js";
import type { CapturesTable, Database, UsageRecordRow } from "./schema.js";
import { storableAttempts, storableCount, storableText } from "./storable.js";
import { inTransaction } from "./tx.js";
import { copyUsageRows, isDuplicateKey, usageCopyRow } from "./usage-copy.js";

type DB = Kysely<Database>;

// Rows per insert statement, which keeps each statement's JSON parameter to a few MB.
const MAX_ROWS_PER_STATEMENT = 2000;
const DAY_MS = 86_400_000;

export interface InsertUsageOptions {
  /** How long captured bodies are kept (default 7 days). */
  captureRetentionDays?: number;
  /** usageRow's result for each record, index for index, when serialised earlier. */
  rows?: readonly string[];
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
 * A record as a positional JSON array, in the column order of ROW_SQL below. Positional because
 * it is half the bytes of an object keyed by column, and the time goes as epoch milliseconds
 * because Date's ISO formatting was the largest single cost of serialising a row. The usage
 * recorder calls this as each record is queued, so a batch only joins strings and the writer
 * never stalls the event loop for a whole batch at once (that stall showed up as tail latency).
 * The record must not change afterwards.
 */
export function usageRow(r: UsageRecord): string {
  return JSON.stringify([
    r.id,
    r.time.getTime(),
    r.instanceId,
    r.keyId,
    r.providerId,
    r.api,
    storableText(r.requestedModel),
    storableText(r.servedModel),
    storableCount(r.inputTokens),
    storableCount(r.outputTokens),
    storableCount(r.cacheReadTokens),
    storableCount(r.cacheWriteTokens),
    r.costUsd,
    r.statusCode,
    r.errorClass,
    r.latencyMs,
    r.ttfbMs,
    r.stream,
    r.clientIp,
    storableText(r.userAgent),
    r.fallback,
    storableAttempts(r.attempts),
    r.replicaId,
  ]);
}

/** Unpacks usageRow's arrays; jsonb makes each positional lookup O(1). */
const ROW_SQL = sql`
  insert into usage_records (
    id, time, instance_id, key_id, provider_id, api, requested_model, served_model,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, status_code,
    error_class, latency_ms, ttfb_ms, stream, client_ip, user_agent, fallback, attempts, replica_id)
  select r->>0, to_timestamp((r->>1)::float8 / 1000), r->>2, r->>3, r->>4, r->>5, r->>6, r->>7,
    (r->>8)::int, (r->>9)::int, (r->>10)::int, (r->>11)::int, (r->>12)::float8, (r->>13)::int,
    r->>14, (r->>15)::float8, (r->>16)::float8, (r->>17)::boolean, r->>18, r->>19,
    (r->>20)::boolean, r->21, r->>22`;

/**
 * One statement for a whole batch, passed as a single JSON parameter: binding hundreds of values
 * (or arrays the driver escapes element by element) costs milliseconds of event-loop time per batch.
 */
async function insertRecordColumns(db: DB, rows: readonly string[]): Promise<void> {
  await sql`${ROW_SQL}
    from jsonb_array_elements(${`[${rows.join(",")}]`}::jsonb) r
    on conflict (id) do nothing`.execute(db);
}

/** A record's captured bodies as the captures row they become; undefined when none were captured. */
export function toCaptureColumns(r: UsageRecord, expiresAt: Date): Insertable<CapturesTable> | undefined {
  if (!r.capture) return undefined;
  return {
    request_id: r.id,
    time: r.time,
    instance_id: r.instanceId,
    request_body: storableText(r.capture.requestBody),
    response_body: storableText(r.capture.responseBody),
    truncated: r.capture.truncated,
    expires_at: expiresAt,
  };
}

function captureRows(rs: readonly UsageRecord[], retentionMs: number): Insertable<CapturesTable>[] {
  const captures: Insertable<CapturesTable>[] = [];
  for (const r of rs) {
    const row = toCaptureColumns(r, new Date(r.time.getTime() + retentionMs));
    if (row) captures.push(row);
  }
  return captures;
}

/**
 * Inserts a batch into usage_records, and its captured bodies into captures, atomically. Ids
 * already present are skipped, so retrying a batch whose commit was not acknowledged never
 * double-counts. A batch without captures that fits one statement needs no transaction.
 */
export async function insertUsageBatch(
  db: DB,
  records: readonly UsageRecord[],
  opts: InsertUsageOptions = {},
): Promise<void> {
  if (records.length === 0) return;
  const retentionMs = (opts.captureRetentionDays ?? 7) * DAY_MS;
  const rows = opts.rows?.length === records.length ? opts.rows : records.map(usageRow);
  if (records.length <= MAX_ROWS_PER_STATEMENT && !records.some((r) => r.capture)) {
    return insertRecordColumns(db, rows);
  }
  await inTransaction(db, async (trx) => {
    for (let i = 0; i < records.length; i += MAX_ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + MAX_ROWS_PER_STATEMENT);
      await insertRecordColumns(trx, rows.slice(i, i + MAX_ROWS_PER_STATEMENT));
      const captures = captureRows(chunk, retentionMs);
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

/** How the usage recorder serialises a record as it is queued, and writes a batch. */
export interface UsageWriter<P> {
  prepare(r: UsageRecord): P;
  insert(batch: UsageRecord[], prepared: P[]): Promise<void>;
  /** A write refused for the values it carried (see the recorder's isRefusal). */
  isRefusal(err: unknown): boolean;
}

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): the values were
 * refused, and a retry would be refused again. Duplicate ids never get here (see the writers).
 */
export function isRefusedValue(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

/** For embedded PGlite: the insert statement, with rows serialised as JSON. */
export function insertUsageWriter(db: DB, captureRetentionDays: number): UsageWriter<string> {
  return {
    prepare: usageRow,
    insert: (batch, rows) => insertUsageBatch(db, batch, { captureRetentionDays, rows }),
    isRefusal: isRefusedValue,
  };
}

/**
 * For a Postgres server: binary COPY, which costs the server about 40 % less per row. A batch
 * that was written before (a retry after an unacknowledged commit) fails COPY as a whole and goes
 * through the insert statement, which skips the ids already stored. So does a batch with captured
 * bodies, which must be written together with them in one transaction.
 */
export function copyUsageWriter(pool: pg.Pool, db: DB, captureRetentionDays: number): UsageWriter<Buffer> {
  return {
    prepare: usageCopyRow,
    isRefusal: isRefusedValue,
    async insert(batch, rows) {
      if (batch.some((r) => r.capture)) return insertUsageBatch(db, batch, { captureRetentionDays });
      try {
        await copyUsageRows(pool, rows);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await insertUsageBatch(db, batch, { captureRetentionDays });
      }
    },
  };
}

/** Deletes captures past their retention. Returns how many were removed. */
export async function deleteExpiredCaptures(db: DB, now: Date = new Date()): Promise<number> {
  const res = await db.deleteFrom("captures").where("expires_at", "<=", now).executeTakeFirst();
  return Number(res.numDeletedRows);
}
