// Usage aggregation, computed in SQL: GROUP BY the chosen dimensions and UTC time buckets, with
// latency percentiles from percentile_cont.
import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "./schema.js";
import { usageFilterConditions, type UsageFilter } from "./usage-filter.js";

export type UsageDimension = "instance" | "key" | "provider" | "model";
export type UsageBucket = "minute" | "hour" | "day";

export interface UsageQuery {
  start: Date;
  end: Date;
  filter?: UsageFilter;
  groupBy?: readonly UsageDimension[];
  bucket?: UsageBucket;
}

export interface UsageAggregate {
  /** Set only for grouped dimensions. */
  instanceId?: string;
  keyId?: string;
  providerId?: string;
  model?: string;
  bucketStart?: Date;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  unpricedRequests: number;
}

// The model a row counts under: what was served, else what was asked for.
const DIMENSION_SQL: Record<UsageDimension, { alias: string; expr: RawBuilder<string> }> = {
  instance: { alias: "instance_id", expr: sql<string>`instance_id` },
  key: { alias: "key_id", expr: sql<string>`key_id` },
  provider: { alias: "provider_id", expr: sql<string>`provider_id` },
  model: { alias: "model", expr: sql<string>`coalesce(nullif(served_model, ''), requested_model)` },
};

interface AggregateRow {
  instance_id?: string;
  key_id?: string;
  provider_id?: string;
  model?: string;
  bucket_start?: Date;
  requests: number;
  errors: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
  p50: number | null;
  p95: number | null;
  unpriced: number;
}

export async function queryUsage(db: Kysely<Database>, q: UsageQuery): Promise<UsageAggregate[]> {
  const dims = [...new Set(q.groupBy ?? [])].map((d) => DIMENSION_SQL[d]);
  const groups = dims.map((d) => d.expr.as(d.alias));
  const groupNames: RawBuilder<unknown>[] = dims.map((d) => sql.ref(d.alias));
  if (q.bucket) {
    // The unit comes from a closed set and is inlined, so GROUP BY sees one expression.
    groups.unshift(sql<string>`date_trunc(${sql.lit(q.bucket)}, time, 'UTC')`.as("bucket_start"));
    groupNames.unshift(sql.ref("bucket_start"));
  }
  let query = db
    .selectFrom("usage_records")
    .where("time", ">=", q.start)
    .where("time", "<", q.end)
    .where((eb) => eb.and(usageFilterConditions(eb, q.filter ?? {})))
    .select([
      ...groups,
      sql<number>`count(*)`.as("requests"),
      sql<number>`count(*) filter (where status_code >= 400 or error_class <> '')`.as("errors"),
      sql<number>`sum(input_tokens)`.as("input_tokens"),
      sql<number>`sum(output_tokens)`.as("output_tokens"),
      sql<number>`sum(cache_read_tokens)`.as("cache_read_tokens"),
      sql<number>`sum(cache_write_tokens)`.as("cache_write_tokens"),
      sql<number>`sum(cost_usd)`.as("cost_usd"),
      sql<number>`percentile_cont(0.5) within group (order by latency_ms)`.as("p50"),
      sql<number>`percentile_cont(0.95) within group (order by latency_ms)`.as("p95"),
      sql<number>`count(*) filter (where cost_usd is null)`.as("unpriced"),
    ])
    .$castTo<AggregateRow>();
  if (groupNames.length > 0) {
    query = query.groupBy(groupNames);
    for (const g of groupNames) query = query.orderBy(g);
  }
  const rows = await query.execute();
  return rows.map(toAggregate);
}

function toAggregate(r: AggregateRow): UsageAggregate {
  return {
    ...(r.instance_id !== undefined ? { instanceId: r.instance_id } : {}),
    ...(r.key_id !== undefined ? { keyId: r.key_id } : {}),
    ...(r.provider_id !== undefined ? { providerId: r.provider_id } : {}),
    ...(r.model !== undefined ? { model: r.model } : {}),
    ...(r.bucket_start !== undefined ? { bucketStart: r.bucket_start } : {}),
    requests: Number(r.requests),
    errors: Number(r.errors),
    inputTokens: Number(r.input_tokens ?? 0),
    outputTokens: Number(r.output_tokens ?? 0),
    cacheReadTokens: Number(r.cache_read_tokens ?? 0),
    cacheWriteTokens: Number(r.cache_write_tokens ?? 0),
    costUsd: Number(r.cost_usd ?? 0),
    latencyP50Ms: Number(r.p50 ?? 0),
    latencyP95Ms: Number(r.p95 ?? 0),
    unpricedRequests: Number(r.unpriced),
  };
}
