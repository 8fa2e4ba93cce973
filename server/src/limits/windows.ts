// Pure window arithmetic shared by the memory and Redis limiters (the Lua script mirrors the token
// and request rules below). All times are ms since epoch, calendars are UTC.
import type { BudgetWindowName } from "../config/types.js";
import type { TokenDimension } from "./types.js";

const DAY_MS = 86_400_000;

export const REQUEST_WINDOW_MS = 60_000;

/**
 * Token windows are summed from sub-buckets. A bucket counts while it overlaps the window, so the
 * summed span is between W and W + one bucket: the limit is never exceeded over any sliding window
 * of length W, and tokens are forgotten at most one bucket late (1 s, 1 min, 15 min).
 */
export const TOKEN_WINDOWS: Record<TokenDimension, { windowMs: number; bucketMs: number }> = {
  tokensPerMinute: { windowMs: 60_000, bucketMs: 1_000 },
  tokensPerHour: { windowMs: 3_600_000, bucketMs: 60_000 },
  tokensPerDay: { windowMs: DAY_MS, bucketMs: 900_000 },
};

export interface CalendarWindow {
  label: string;
  startsAt: number;
  /** Null for the total window. */
  endsAt: number | null;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** The calendar window holding `now`: daily, weekly (ISO week from Monday 00:00), monthly, or total. */
export function budgetWindow(window: BudgetWindowName, now: number): CalendarWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const dayStart = Date.UTC(y, m, d.getUTCDate());
  switch (window) {
    case "daily":
      return {
        label: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}`,
        startsAt: dayStart,
        endsAt: dayStart + DAY_MS,
      };
    case "weekly": {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      const monday = dayStart - sinceMonday * DAY_MS;
      // The ISO week belongs to the year holding its Thursday.
      const thursday = new Date(monday + 3 * DAY_MS);
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS)) + 1;
      return { label: `${isoYear}-W${pad(week)}`, startsAt: monday, endsAt: monday + 7 * DAY_MS };
    }
    case "monthly":
      return { label: `${y}-${pad(m + 1)}`, startsAt: Date.UTC(y, m, 1), endsAt: Date.UTC(y, m + 1, 1) };
    case "total":
      return { label: "all", startsAt: 0, endsAt: null };
  }
}

/** Retry-After in whole seconds: rounded up, never below 1. Null stays null (waiting cannot help). */
export function retryAfterSeconds(ms: number | null): number | null {
  if (ms === null) return null;
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * A duration the way OpenAI writes x-ratelimit-reset-* (Go's Duration format):
 * "12ms", "1s", "8.64s", "6m0s", "1h2m3s".
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = ((total % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, "");
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * Sliding-window log: ms until enough entries leave for one more request. `times` ascending, all
 * inside the window. Null when the limit admits nothing at all.
 */
export function requestRetryMs(
  times: readonly number[],
  limit: number,
  windowMs: number,
  now: number,
): number | null {
  if (limit <= 0) return null;
  if (times.length < limit) return 0;
  // (length - limit + 1) entries must leave; the last of them is at index length - limit.
  const t = times[times.length - limit];
  return t === undefined ? 0 : t + windowMs - now;
}

export function tokenBucketId(now: number, bucketMs: number): number {
  return Math.floor(now / bucketMs);
}

/** A bucket counts while id >= current - windowMs/bucketMs; this is when it stops counting. */
export function tokenBucketLeavesAt(id: number, windowMs: number, bucketMs: number): number {
  return (id + windowMs / bucketMs + 1) * bucketMs;
}

/**
 * ms until `estimate` more tokens fit. `buckets` ascending by id, all still counting. Null when the
 * estimate alone is over the limit.
 */
export function tokenRetryMs(
  buckets: readonly { id: number; tokens: number }[],
  estimate: number,
  limit: number,
  windowMs: number,
  bucketMs: number,
  now: number,
): number | null {
  if (estimate > limit) return null;
  let used = buckets.reduce((sum, b) => sum + b.tokens, 0);
  if (used + estimate <= limit) return 0;
  for (const b of buckets) {
    used -= b.tokens;
    if (used + estimate <= limit) return tokenBucketLeavesAt(b.id, windowMs, bucketMs) - now;
  }
  return windowMs;
}
