// The hand-rendered per-request series must be exposition a Prometheus server accepts, with
// label values escaped and histogram buckets cumulative.
import { describe, expect, it } from "vitest";
import { counterFamily, histogramFamily } from "../../server/src/metrics/hot.js";
import { parseExposition, samples, valueOf } from "../ops/prom.js";

describe("hot metric families", () => {
  it("render counters with escaped label values, and only series that counted something", () => {
    const c = counterFamily({ name: "t_requests_total", help: "Requests.", labelNames: ["model", "status"] });
    const odd = 'we"ird\\model\nname';
    c.series([odd, "2xx"]).value += 3;
    c.series(["plain", "2xx"]).value += 1.5;
    c.series(["unused", "5xx"]);
    const exp = parseExposition(c.render());
    expect(exp.get("t_requests_total")?.type).toBe("counter");
    expect(valueOf(exp, "t_requests_total", { model: odd, status: "2xx" })).toBe(3);
    expect(valueOf(exp, "t_requests_total", { model: "plain", status: "2xx" })).toBe(1.5);
    expect(samples(exp, "t_requests_total", { model: "unused" })).toHaveLength(0);
  });

  it("render histograms with cumulative buckets, +Inf, sum and count", () => {
    const h = histogramFamily({
      name: "t_seconds",
      help: "Latency.",
      labelNames: ["provider"],
      buckets: [0.1, 1, 0.01],
    });
    const s = h.series(["p"]);
    for (const v of [0.005, 0.01, 0.05, 0.5, 0.5, 3]) s.observe(v);
    const exp = parseExposition(h.render());
    const bucket = (le: string): number | undefined =>
      valueOf(exp, "t_seconds_bucket", { provider: "p", le });
    expect(bucket("0.01")).toBe(2); // le is inclusive
    expect(bucket("0.1")).toBe(3);
    expect(bucket("1")).toBe(5);
    expect(bucket("+Inf")).toBe(6);
    expect(valueOf(exp, "t_seconds_count", { provider: "p" })).toBe(6);
    expect(valueOf(exp, "t_seconds_sum", { provider: "p" })).toBeCloseTo(4.065, 10);
  });

  it("render an unlabelled histogram", () => {
    const h = histogramFamily({
      name: "t_overhead_seconds",
      help: "Overhead.",
      labelNames: [],
      buckets: [0.001],
    });
    h.series([]).observe(0.0005);
    const exp = parseExposition(h.render());
    expect(valueOf(exp, "t_overhead_seconds_bucket", { le: "0.001" })).toBe(1);
    expect(valueOf(exp, "t_overhead_seconds_count")).toBe(1);
  });
});
