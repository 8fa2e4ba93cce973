import { TimeBucket } from "../../../../sdk/index.js";

export type RangePreset = "1h" | "24h" | "7d" | "30d" | "custom";
export type Bucket = "minute" | "hour" | "day";

export interface TimeRange {
  start: Date;
  end: Date;
  bucket: Bucket;
}

export const PRESETS: { id: Exclude<RangePreset, "custom">; label: string; ms: number; bucket: Bucket }[] = [
  { id: "1h", label: "1 hour", ms: 3_600_000, bucket: "minute" },
  { id: "24h", label: "24 hours", ms: 86_400_000, bucket: "hour" },
  { id: "7d", label: "7 days", ms: 7 * 86_400_000, bucket: "hour" },
  { id: "30d", label: "30 days", ms: 30 * 86_400_000, bucket: "day" },
];

export const BUCKET_SECONDS: Record<Bucket, number> = { minute: 60, hour: 3600, day: 86_400 };

// Longest custom range; keeps day buckets to a drawable count.
const MAX_SPAN_MS = 400 * 86_400_000;

export function presetRange(preset: Exclude<RangePreset, "custom">, now: Date): TimeRange {
  const p = PRESETS.find((x) => x.id === preset) ?? PRESETS[1]!;
  return { start: new Date(now.getTime() - p.ms), end: now, bucket: p.bucket };
}

/** The bucket that keeps a span between a few dozen and a few hundred points. */
export function bucketForSpan(ms: number): Bucket {
  if (ms <= 6 * 3_600_000) return "minute";
  if (ms <= 14 * 86_400_000) return "hour";
  return "day";
}

/** A custom range, or a message saying why the input is not one. */
export function customRange(start: Date, end: Date): TimeRange | string {
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return "Enter both a start and an end.";
  const span = end.getTime() - start.getTime();
  if (span <= 0) return "The start must be before the end.";
  if (span > MAX_SPAN_MS) return "The range can be at most 400 days.";
  return { start, end, bucket: bucketForSpan(span) };
}

/** Start (epoch seconds, UTC-aligned) of every bucket that overlaps the range. */
export function bucketStarts(range: TimeRange): number[] {
  const step = BUCKET_SECONDS[range.bucket];
  const first = Math.floor(range.start.getTime() / 1000 / step) * step;
  const last = Math.floor((range.end.getTime() - 1) / 1000 / step) * step;
  const out: number[] = [];
  for (let t = first; t <= last; t += step) out.push(t);
  return out;
}

export function toTimeBucket(bucket: Bucket): TimeBucket {
  return bucket === "minute" ? TimeBucket.MINUTE : bucket === "hour" ? TimeBucket.HOUR : TimeBucket.DAY;
}
