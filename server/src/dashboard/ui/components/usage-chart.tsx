import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { fmtCompact, fmtInt, fmtUsd } from "../format.js";
import type { ChartData, Metric } from "../usage-series.js";

// Distinguishable on light and dark backgrounds; "other" is always grey.
const PALETTE = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
const OTHER_COLOR = "#9ca3af";
const HEIGHT = 320;

function formatValue(metric: Metric, v: number | null): string {
  if (v === null) return "–";
  return metric === "cost" ? fmtUsd(v) : fmtInt(Math.round(v));
}

export function UsageChart({ data, metric }: { data: ChartData; metric: Metric }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: el.clientWidth || 800,
      height: HEIGHT,
      scales: { x: { time: true } },
      series: [
        {},
        ...data.series.map((s, i) => ({
          label: s.label || "(none)",
          stroke: s.other ? OTHER_COLOR : PALETTE[i % PALETTE.length],
          width: 2,
          value: (_u: uPlot, v: number | null) => formatValue(metric, v),
        })),
      ],
      axes: [
        {},
        {
          size: 64,
          values: (_u, splits) => splits.map((v) => (metric === "cost" ? fmtUsd(v) : fmtCompact(v))),
        },
      ],
    };
    const plot = new uPlot(opts, [data.x, ...data.series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, metric]);
  return (
    <div
      ref={ref}
      class="chart"
      role="figure"
      aria-label={`Usage over time: ${data.series.map((s) => s.label).join(", ")}`}
      data-testid="usage-chart"
      data-series={data.series.map((s) => s.label).join(",")}
    />
  );
}
