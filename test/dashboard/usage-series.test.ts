import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { UsageRowSchema, type UsageRow } from "../../sdk/index.js";
import { bucketStarts, customRange, presetRange } from "../../server/src/dashboard/ui/time-range.js";
import { buildChart, sumRows, topKeys } from "../../server/src/dashboard/ui/usage-series.js";

const NOW = new Date("2025-03-10T12:30:00Z");

function row(
  init: Partial<Record<"instanceId" | "model" | "providerId", string>> & {
    at?: Date;
    requests: number;
    cost?: number;
  },
): UsageRow {
  return create(UsageRowSchema, {
    instanceId: init.instanceId ?? "",
    model: init.model ?? "",
    providerId: init.providerId ?? "",
    requests: BigInt(init.requests),
    inputTokens: BigInt(init.requests * 10),
    outputTokens: BigInt(init.requests * 2),
    costUsd: init.cost ?? init.requests / 100,
    ...(init.at ? { bucketStart: timestampFromDate(init.at) } : {}),
  });
}

describe("time ranges", () => {
  it("pairs each preset with a bucket that keeps the point count drawable", () => {
    expect(presetRange("1h", NOW).bucket).toBe("minute");
    expect(presetRange("24h", NOW).bucket).toBe("hour");
    expect(presetRange("7d", NOW).bucket).toBe("hour");
    expect(presetRange("30d", NOW).bucket).toBe("day");
    expect(bucketStarts(presetRange("1h", NOW))).toHaveLength(60);
    expect(bucketStarts(presetRange("24h", NOW))).toHaveLength(25);
    expect(bucketStarts(presetRange("30d", NOW))).toHaveLength(31);
  });

  it("aligns buckets to UTC boundaries", () => {
    const starts = bucketStarts(presetRange("24h", NOW));
    expect(starts[0]).toBe(Date.parse("2025-03-09T12:00:00Z") / 1000);
    expect(starts.at(-1)).toBe(Date.parse("2025-03-10T12:00:00Z") / 1000);
  });

  it("chooses the bucket of a custom range from its span and rejects bad input", () => {
    const from = new Date("2025-03-01T00:00:00Z");
    expect(customRange(from, new Date("2025-03-01T03:00:00Z"))).toMatchObject({ bucket: "minute" });
    expect(customRange(from, new Date("2025-03-08T00:00:00Z"))).toMatchObject({ bucket: "hour" });
    expect(customRange(from, new Date("2025-05-01T00:00:00Z"))).toMatchObject({ bucket: "day" });
    expect(customRange(from, from)).toBe("The start must be before the end.");
    expect(customRange(new Date("nope"), from)).toBe("Enter both a start and an end.");
    expect(customRange(from, new Date("2027-01-01T00:00:00Z"))).toMatch(/at most/);
  });
});

describe("usage series", () => {
  it("keeps the N largest values by the chosen metric and reports whether the rest carry any", () => {
    const totals = [
      row({ instanceId: "a", requests: 5, cost: 9 }),
      row({ instanceId: "b", requests: 50, cost: 1 }),
      row({ instanceId: "c", requests: 20, cost: 3 }),
      row({ instanceId: "d", requests: 0, cost: 0 }),
    ];
    expect(topKeys(totals, "instance", "requests", 2)).toEqual({ keys: ["b", "c"], hasOther: true });
    expect(topKeys(totals, "instance", "cost", 2)).toEqual({ keys: ["a", "c"], hasOther: true });
    // Only a zero-valued instance is left out: nothing to draw as "other".
    expect(topKeys(totals, "instance", "requests", 3)).toEqual({ keys: ["b", "c", "a"], hasOther: false });
  });

  it("aligns rows on a gap-free axis and derives 'other' from the overall totals", () => {
    const range = presetRange("1h", NOW);
    const t1 = new Date("2025-03-10T11:45:00Z");
    const t2 = new Date("2025-03-10T12:10:00Z");
    const chart = buildChart({
      range,
      split: "model",
      metric: "requests",
      top: { keys: ["gpt-4o", "llama3"], hasOther: true },
      seriesRows: [
        row({ model: "gpt-4o", at: t1, requests: 4 }),
        row({ model: "gpt-4o", at: t2, requests: 1 }),
        row({ model: "llama3", at: t2, requests: 2 }),
      ],
      overallRows: [row({ at: t1, requests: 10 }), row({ at: t2, requests: 3 })],
    });
    expect(chart.x).toHaveLength(60);
    expect(chart.series.map((s) => s.label)).toEqual(["gpt-4o", "llama3", "other"]);
    const i1 = chart.x.indexOf(t1.getTime() / 1000);
    const i2 = chart.x.indexOf(t2.getTime() / 1000);
    expect(chart.series[0]!.values[i1]).toBe(4);
    expect(chart.series[1]!.values[i2]).toBe(2);
    expect(chart.series[2]!.values[i1]).toBe(6);
    expect(chart.series[2]!.values[i2]).toBe(0);
    expect(chart.series.every((s) => s.values.reduce((a, b) => a + b, 0) >= 0)).toBe(true);
    expect(chart.series[0]!.values.filter((v) => v === 0)).toHaveLength(58);
  });

  it("adds buckets the server returns outside the computed axis instead of dropping them", () => {
    const range = presetRange("24h", NOW);
    const odd = new Date("2025-03-10T05:30:00Z");
    const chart = buildChart({
      range,
      split: "instance",
      metric: "tokens",
      top: { keys: ["a"], hasOther: false },
      seriesRows: [row({ instanceId: "a", at: odd, requests: 1 })],
      overallRows: [],
    });
    expect(chart.x).toContain(odd.getTime() / 1000);
    expect(chart.series).toHaveLength(1);
    expect(chart.series[0]!.values[chart.x.indexOf(odd.getTime() / 1000)]).toBe(12);
  });

  it("sums totals across rows", () => {
    expect(sumRows([row({ requests: 3, cost: 0.5 }), row({ requests: 4, cost: 0.25 })])).toEqual({
      requests: 7,
      errors: 0,
      tokens: 84,
      cost: 0.75,
      unpriced: 0,
    });
  });
});
