// gwctl usage: aggregated tokens, cost and latency (QueryUsage).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import { QueryUsageResponseSchema, TimeBucket, UsageDimension, type UsageRow } from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { count, millis, text, time, usd } from "../format.js";
import { printJson, printTable } from "../output.js";
import { collectList, oneOf, parseInstant } from "../parse.js";

const DIMENSIONS = ["instance", "key", "provider", "model"] as const;
type Dimension = (typeof DIMENSIONS)[number];

const DIMENSION: Record<Dimension, { value: UsageDimension; cell: (r: UsageRow) => string }> = {
  instance: { value: UsageDimension.INSTANCE, cell: (r) => r.instanceId },
  key: { value: UsageDimension.KEY, cell: (r) => r.keyId },
  provider: { value: UsageDimension.PROVIDER, cell: (r) => r.providerId },
  model: { value: UsageDimension.MODEL, cell: (r) => r.model },
};

const BUCKETS = ["minute", "hour", "day"] as const;
const BUCKET: Record<(typeof BUCKETS)[number], TimeBucket> = {
  minute: TimeBucket.MINUTE,
  hour: TimeBucket.HOUR,
  day: TimeBucket.DAY,
};

interface UsageFlags {
  by?: string[];
  since: string;
  until?: string;
  bucket?: (typeof BUCKETS)[number];
  instance?: string[];
  key?: string[];
  provider?: string[];
  model?: string[];
}

/** Cost is a sum of known prices; say so when some requests had none. */
export function costCell(row: UsageRow): string {
  if (row.requests > 0n && row.unpricedRequests >= row.requests) return "—";
  const cost = usd(row.costUsd);
  return row.unpricedRequests > 0n ? `${cost} (+${row.unpricedRequests} unpriced)` : cost;
}

function dimensionsOf(values: string[]): Dimension[] {
  const dims: Dimension[] = [];
  for (const v of values) {
    const d = DIMENSIONS.find((x) => x === v.toLowerCase());
    if (!d) throw new UsageError(`--by: "${v}" is not one of ${DIMENSIONS.join(", ")}`);
    if (!dims.includes(d)) dims.push(d);
  }
  return dims;
}

export function registerUsage(program: Command): void {
  program
    .command("usage")
    .description("tokens, cost and latency, grouped and bucketed")
    .option(
      "--by <dimension>",
      "group by instance|key|provider|model (repeatable or comma list)",
      collectList,
    )
    .option("--since <when>", "start: a duration ago (24h) or RFC 3339 time", "24h")
    .option("--until <when>", "end: a duration ago or RFC 3339 time (default: now)")
    .option("--bucket <width>", "time buckets: minute|hour|day", oneOf(BUCKETS))
    .option("--instance <id>", "only these instances (repeatable or comma list)", collectList)
    .option("--key <id>", "only these keys (repeatable or comma list)", collectList)
    .option("--provider <id>", "only these providers (repeatable or comma list)", collectList)
    .option("--model <name>", "only these models (repeatable or comma list)", collectList)
    .action(async (flags: UsageFlags, cmd: Command) => {
      const dims = dimensionsOf(flags.by ?? []);
      const now = new Date();
      const start = instantFlag("--since", flags.since, now);
      const end = flags.until === undefined ? undefined : instantFlag("--until", flags.until, now);
      if (end && end <= start) throw new UsageError("--until must be later than --since");
      const ctx = contextOf(cmd);
      const res = await ctx.client().queryUsage({
        startTime: timestampFromDate(start),
        ...(end ? { endTime: timestampFromDate(end) } : {}),
        groupBy: dims.map((d) => DIMENSION[d].value),
        bucket: flags.bucket ? BUCKET[flags.bucket] : TimeBucket.UNSPECIFIED,
        filter: {
          instanceIds: flags.instance ?? [],
          keyIds: flags.key ?? [],
          providerIds: flags.provider ?? [],
          models: flags.model ?? [],
        },
      });
      if (ctx.output === "json") return printJson(QueryUsageResponseSchema, res);
      const head = [
        ...dims.map((d) => d.toUpperCase()),
        ...(flags.bucket ? ["BUCKET"] : []),
        "REQUESTS",
        "ERRORS",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "COST USD",
        "P50 MS",
        "P95 MS",
      ];
      printTable(
        head,
        res.rows.map((r) => [
          ...dims.map((d) => text(DIMENSION[d].cell(r))),
          ...(flags.bucket ? [time(r.bucketStart)] : []),
          count(r.requests),
          count(r.errors),
          count(r.inputTokens),
          count(r.outputTokens),
          count(r.cacheReadTokens),
          costCell(r),
          millis(r.latencyP50Ms),
          millis(r.latencyP95Ms),
        ]),
        "(no usage in this period)",
      );
    });
}

function instantFlag(flag: string, value: string, now: Date): Date {
  try {
    return parseInstant(value, now);
  } catch (err) {
    throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
