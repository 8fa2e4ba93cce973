import { timestampMs } from "@bufbuild/protobuf/wkt";
import { UsageDimension, type UsageRow } from "../../../../sdk/index.js";
import { bucketStarts, type TimeRange } from "./time-range.js";

export type Metric = "requests" | "tokens" | "cost";
export type Split = "instance" | "model" | "provider";

export const METRICS: { id: Metric; label: string }[] = [
  { id: "requests", label: "Requests" },
  { id: "tokens", label: "Tokens" },
  { id: "cost", label: "Cost (USD)" },
];

export const SPLITS: { id: Split; label: string }[] = [
  { id: "instance", label: "Instance" },
  { id: "model", label: "Model" },
  { id: "provider", label: "Provider" },
];

/** Series drawn at most, besides "other": more lines than this are unreadable anyway. */
export const DEFAULT_TOP_N = 8;

export const OTHER_LABEL = "other";

export function metricOf(row: UsageRow, metric: Metric): number {
  if (metric === "requests") return Number(row.requests);
  if (metric === "tokens") return Number(row.inputTokens) + Number(row.outputTokens);
  return row.costUsd;
}

export function dimensionOf(row: UsageRow, split: Split): string {
  if (split === "instance") return row.instanceId;
  if (split === "model") return row.model;
  return row.providerId;
}

export function toDimension(split: Split): UsageDimension {
  if (split === "instance") return UsageDimension.INSTANCE;
  if (split === "model") return UsageDimension.MODEL;
  return UsageDimension.PROVIDER;
}

/** The filter that narrows a usage query to the given values of one dimension. */
export function filterFor(split: Split, values: string[]) {
  if (split === "instance") return { instanceIds: values };
  if (split === "model") return { models: values };
  return { providerIds: values };
}

export interface TopKeys {
  keys: string[];
  /** Whether values outside the top N carry any of the metric. */
  hasOther: boolean;
}

/** The N largest values of the split dimension by the metric, from rows grouped by that dimension only. */
export function topKeys(totals: UsageRow[], split: Split, metric: Metric, n: number): TopKeys {
  const sums = new Map<string, number>();
  for (const row of totals) {
    const k = dimensionOf(row, split);
    sums.set(k, (sums.get(k) ?? 0) + metricOf(row, metric));
  }
  const ranked = [...sums.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const keys = ranked.slice(0, n).map(([k]) => k);
  const hasOther = ranked.slice(n).some(([, v]) => v > 0);
  return { keys, hasOther };
}

export interface ChartSeries {
  label: string;
  values: number[];
  other: boolean;
}

export interface ChartData {
  /** Bucket starts in epoch seconds. */
  x: number[];
  series: ChartSeries[];
}

export interface ChartInput {
  range: TimeRange;
  split: Split;
  metric: Metric;
  top: TopKeys;
  /** Rows grouped by the split dimension and bucket, narrowed to the top keys. */
  seriesRows: UsageRow[];
  /** Rows grouped by bucket only: the whole traffic, from which "other" is derived. */
  overallRows: UsageRow[];
}

function bucketSeconds(row: UsageRow): number | undefined {
  return row.bucketStart ? Math.round(timestampMs(row.bucketStart) / 1000) : undefined;
}

/** Aligns server-aggregated rows on a gap-free time axis: one series per top key, plus "other". */
export function buildChart(input: ChartInput): ChartData {
  const { split, metric, top } = input;
  const axis = new Set(bucketStarts(input.range));
  for (const row of [...input.seriesRows, ...input.overallRows]) {
    const t = bucketSeconds(row);
    if (t !== undefined) axis.add(t);
  }
  const x = [...axis].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));

  const series: ChartSeries[] = top.keys.map((label) => ({ label, values: x.map(() => 0), other: false }));
  const byKey = new Map(series.map((s) => [s.label, s]));
  const shown = x.map(() => 0);
  for (const row of input.seriesRows) {
    const s = byKey.get(dimensionOf(row, split));
    const i = index.get(bucketSeconds(row) ?? NaN);
    if (!s || i === undefined) continue;
    const v = metricOf(row, metric);
    s.values[i]! += v;
    shown[i]! += v;
  }
  if (top.hasOther) {
    const values = x.map(() => 0);
    for (const row of input.overallRows) {
      const i = index.get(bucketSeconds(row) ?? NaN);
      if (i !== undefined) values[i]! += metricOf(row, metric);
    }
    // Rounding in summed costs must not show as a sliver of negative "other".
    const other = values.map((v, i) => Math.max(0, v - shown[i]!));
    series.push({ label: OTHER_LABEL, values: other, other: true });
  }
  return { x, series };
}

export interface Totals {
  requests: number;
  errors: number;
  tokens: number;
  cost: number;
  unpriced: number;
}

export function sumRows(rows: UsageRow[]): Totals {
  const t: Totals = { requests: 0, errors: 0, tokens: 0, cost: 0, unpriced: 0 };
  for (const r of rows) {
    t.requests += Number(r.requests);
    t.errors += Number(r.errors);
    t.tokens += Number(r.inputTokens) + Number(r.outputTokens);
    t.cost += r.costUsd;
    t.unpriced += Number(r.unpricedRequests);
  }
  return t;
}
