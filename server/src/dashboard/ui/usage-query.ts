import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { UsageDimension, type AdminClient, type UsageRow } from "../../../../sdk/index.js";
import { toTimeBucket, type TimeRange } from "./time-range.js";
import {
  buildChart,
  DEFAULT_TOP_N,
  filterFor,
  sumRows,
  toDimension,
  topKeys,
  type ChartData,
  type Metric,
  type Split,
  type Totals,
} from "./usage-series.js";

export interface UsageView {
  range: TimeRange;
  chart: ChartData;
  totals: Totals;
  /** One row per instance over the whole range. */
  instances: UsageRow[];
}

/**
 * Every number is aggregated by the gateway: the browser only ever receives one row per top series
 * per bucket, one row per bucket, and one row per instance, whatever the number of records.
 */
export async function loadUsage(
  client: AdminClient,
  range: TimeRange,
  split: Split,
  metric: Metric,
  signal: AbortSignal,
): Promise<UsageView> {
  const base = { startTime: timestampFromDate(range.start), endTime: timestampFromDate(range.end) };
  const bucket = toTimeBucket(range.bucket);
  const dim = toDimension(split);
  const [byDim, overall, byInstance] = await Promise.all([
    client.queryUsage({ ...base, groupBy: [dim] }, { signal }),
    client.queryUsage({ ...base, bucket }, { signal }),
    split === "instance"
      ? undefined
      : client.queryUsage({ ...base, groupBy: [UsageDimension.INSTANCE] }, { signal }),
  ]);
  const top = topKeys(byDim.rows, split, metric, DEFAULT_TOP_N);
  const series = top.keys.length
    ? await client.queryUsage(
        { ...base, bucket, groupBy: [dim], filter: filterFor(split, top.keys) },
        { signal },
      )
    : { rows: [] };
  return {
    range,
    chart: buildChart({ range, split, metric, top, seriesRows: series.rows, overallRows: overall.rows }),
    totals: sumRows(overall.rows),
    instances: (byInstance ?? byDim).rows,
  };
}
