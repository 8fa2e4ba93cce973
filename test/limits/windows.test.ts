import { describe, expect, it } from "vitest";
import {
  budgetWindow,
  formatResetDuration,
  requestRetryMs,
  retryAfterSeconds,
  tokenBucketLeavesAt,
  tokenRetryMs,
} from "../../server/src/limits/windows.js";

const at = (iso: string): number => Date.parse(iso);

describe("budget windows (UTC calendar)", () => {
  it("daily runs midnight to midnight", () => {
    const w = budgetWindow("daily", at("2026-11-21T23:59:59.999Z"));
    expect(w).toEqual({
      label: "2026-11-21",
      startsAt: at("2026-11-21T00:00:00Z"),
      endsAt: at("2026-11-22T00:00:00Z"),
    });
    expect(budgetWindow("daily", at("2026-11-22T00:00:00Z")).label).toBe("2026-11-22");
  });

  it("weekly is the ISO week from Monday 00:00", () => {
    // 2026-11-21 is a Saturday; its week starts Monday 2026-11-16.
    const w = budgetWindow("weekly", at("2026-11-21T10:00:00Z"));
    expect(w.startsAt).toBe(at("2026-11-16T00:00:00Z"));
    expect(w.endsAt).toBe(at("2026-11-23T00:00:00Z"));
    expect(w.label).toBe("2026-W47");
    // Sunday night still belongs to that week; Monday starts the next.
    expect(budgetWindow("weekly", at("2026-11-22T23:59:59Z")).label).toBe("2026-W47");
    expect(budgetWindow("weekly", at("2026-11-23T00:00:00Z")).label).toBe("2026-W48");
  });

  it("weekly labels use the ISO week-year across new year", () => {
    // 2027-01-01 is a Friday: it belongs to 2026-W53, which began Monday 2026-12-28.
    const w = budgetWindow("weekly", at("2027-01-01T12:00:00Z"));
    expect(w.label).toBe("2026-W53");
    expect(w.startsAt).toBe(at("2026-12-28T00:00:00Z"));
    // 2024-12-30 is a Monday in 2025-W01.
    expect(budgetWindow("weekly", at("2024-12-31T00:00:00Z")).label).toBe("2025-W01");
  });

  it("monthly runs from the 1st, including leap February", () => {
    const w = budgetWindow("monthly", at("2028-02-29T18:00:00Z"));
    expect(w).toEqual({
      label: "2028-02",
      startsAt: at("2028-02-01T00:00:00Z"),
      endsAt: at("2028-03-01T00:00:00Z"),
    });
    expect(budgetWindow("monthly", at("2026-12-31T23:59:59Z")).endsAt).toBe(at("2027-01-01T00:00:00Z"));
  });

  it("total never resets", () => {
    expect(budgetWindow("total", at("2026-11-21T00:00:00Z"))).toEqual({
      label: "all",
      startsAt: 0,
      endsAt: null,
    });
  });
});

describe("retry-after", () => {
  it("rounds up to whole seconds, never below 1", () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(54_999)).toBe(55);
    expect(retryAfterSeconds(null)).toBeNull();
  });

  it("sliding log waits for the entry that must leave", () => {
    const t = 1_000_000;
    // Limit 3 with 3 in the window: the oldest must leave.
    expect(requestRetryMs([t, t + 10_000, t + 20_000], 3, 60_000, t + 30_000)).toBe(30_000);
    // Limit lowered to 2 with 3 in the window: two must leave, so wait for the second.
    expect(requestRetryMs([t, t + 10_000, t + 20_000], 2, 60_000, t + 30_000)).toBe(40_000);
    expect(requestRetryMs([t], 2, 60_000, t)).toBe(0);
    expect(requestRetryMs([], 0, 60_000, t)).toBeNull();
  });

  it("token buckets free in order until the estimate fits", () => {
    const bucket = 1000;
    const now = 100_500;
    const buckets = [
      { id: 90, tokens: 400 },
      { id: 95, tokens: 300 },
      { id: 100, tokens: 200 },
    ];
    // 900 used, limit 1000, need 300: bucket 90 must leave, at (90 + 60 + 1) * 1000.
    expect(tokenRetryMs(buckets, 300, 1000, 60_000, bucket, now)).toBe(
      tokenBucketLeavesAt(90, 60_000, bucket) - now,
    );
    expect(tokenBucketLeavesAt(90, 60_000, bucket)).toBe(151_000);
    // Need 700: buckets 90 and 95 must leave.
    expect(tokenRetryMs(buckets, 700, 1000, 60_000, bucket, now)).toBe(156_000 - now);
    expect(tokenRetryMs(buckets, 100, 1000, 60_000, bucket, now)).toBe(0);
    expect(tokenRetryMs(buckets, 1001, 1000, 60_000, bucket, now)).toBeNull();
  });
});

describe("reset formatting (OpenAI x-ratelimit-reset-*)", () => {
  it("matches the documented and observed shapes", () => {
    expect(formatResetDuration(1000)).toBe("1s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(formatResetDuration(12)).toBe("12ms");
    expect(formatResetDuration(8640)).toBe("8.64s");
    expect(formatResetDuration(60_000)).toBe("1m0s");
    expect(formatResetDuration(61_500)).toBe("1m1.5s");
    expect(formatResetDuration(3_723_000)).toBe("1h2m3s");
    expect(formatResetDuration(7_200_000)).toBe("2h0m0s");
    expect(formatResetDuration(0)).toBe("0s");
    expect(formatResetDuration(-5)).toBe("0s");
    expect(formatResetDuration(0.2)).toBe("1ms");
  });
});
