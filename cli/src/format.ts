// Renders message fields as short, stable table cells.
import type { DescEnum } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

export const NONE = "-";

/** RFC 3339 in UTC, without milliseconds; "-" when unset. */
export function time(ts: Timestamp | undefined): string {
  if (!ts || (ts.seconds === 0n && ts.nanos === 0)) return NONE;
  return timestampDate(ts)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
}

/** An enum value as a lower-case word: KEY_STATE_HALF_OPEN → "half-open"; unspecified → "-". */
export function enumWord(desc: DescEnum, value: number): string {
  if (value === 0) return NONE;
  const v = desc.value[value];
  return v ? v.localName.toLowerCase().replace(/_/g, "-") : String(value);
}

export function text(value: string | undefined): string {
  return value === undefined || value === "" ? NONE : value;
}

export function list(values: readonly string[]): string {
  return values.length === 0 ? NONE : values.join(",");
}

export function labels(map: Record<string, string>): string {
  const entries = Object.entries(map);
  return entries.length === 0 ? NONE : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

export function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}

export function count(value: bigint | number | undefined): string {
  return value === undefined ? NONE : value.toString();
}

export function millis(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return NONE;
  if (value === 0) return "0";
  return value < 10 ? value.toFixed(1) : Math.round(value).toString();
}

/** USD with enough precision for per-request amounts. */
export function usd(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return NONE;
  if (value === 0) return "0";
  return value >= 1 ? value.toFixed(2) : value.toFixed(6).replace(/0+$/, "");
}

/** 93784 → "1d 2h 3m 4s". */
export function span(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join(" ");
}

/** Cuts long cell content so tables stay readable; JSON output keeps the full value. */
export function clip(value: string, max = 60): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
