// The harness's own arithmetic: what it reads from wrk and /metrics, and how it judges records.
import { expect, test } from "vitest";
import { requestsFromMetrics } from "../../bench/accounting.js";
import {
  busyShare,
  cpuPerRequest,
  parseProcPidStat,
  parseProcStat,
  readCpu,
  stolenShare,
} from "../../bench/cpu.js";
import { markdownTable } from "../../bench/markdown.js";
import { hostWarnings, renderHostWarnings } from "../../bench/host-check.js";
import type { MachineInfo } from "../../bench/machine.js";
import { checkAfterLoad, checkAfterWrk } from "../../bench/record-check.js";
import { buildRows, describeRun } from "../../bench/report.js";
import { median, percentile } from "../../bench/stats.js";
import { assertAnswered, parseWrkSummary, type WrkRun } from "../../bench/wrk.js";

test("percentiles interpolate between ranks and ignore input order", () => {
  expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
  expect(percentile([10, 20, 30, 40, 50], 99)).toBeCloseTo(49.6);
  expect(median([7])).toBe(7);
  expect(median([])).toBeNaN();
});

test("the wrk summary printed by post.lua becomes milliseconds and requests per second", () => {
  const out = [
    "Running 10s test @ http://127.0.0.1:1/v1/chat/completions",
    'BENCH_RESULT {"requests":20000,"durationUs":10000000,"connect":0,"read":2,"write":0,"status":3,' +
      '"timeout":1,"p50Us":250.0,"p99Us":1200.0,"meanUs":300.0,"maxUs":9000.0}',
  ].join("\n");
  expect(parseWrkSummary(out)).toEqual({
    requests: 20000,
    statusErrors: 3,
    socketErrors: 3,
    durationS: 10,
    rps: 2000,
    p50Ms: 0.25,
    p99Ms: 1.2,
    meanMs: 0.3,
  });
  expect(() => parseWrkSummary("no summary here")).toThrow(/no summary/);
});

test("served requests are summed over one instance's label sets only", () => {
  const text = [
    "# TYPE keygate_requests_total counter",
    'keygate_requests_total{provider="bench",model="m",instance="bench-a",status="2xx"} 40',
    'keygate_requests_total{provider="bench",model="m",instance="bench-a",status="5xx"} 2',
    'keygate_requests_total{provider="bench",model="m",instance="bench-ab",status="2xx"} 7',
    'keygate_request_errors_total{provider="bench",error_class="x",instance="bench-a"} 2',
  ].join("\n");
  expect(requestsFromMetrics(text, "bench-a")).toBe(42);
  expect(requestsFromMetrics(text, "bench-zz")).toBeUndefined();
});

test("after wrk, records must equal served exactly, and served must lie within wrk's count + in-flight", () => {
  expect(checkAfterWrk(1000, 50, { served: 1020, records: 1020 }).ok).toBe(true);
  expect(checkAfterWrk(1000, 50, { served: 1020, records: 1019 }).ok).toBe(false);
  expect(checkAfterWrk(1000, 50, { served: 999, records: 999 }).ok).toBe(false);
  expect(checkAfterWrk(1000, 50, { served: 1051, records: 1051 }).ok).toBe(false);
  // Without keygate's counter (--workers) only the bound is left.
  expect(checkAfterWrk(1000, 50, { served: undefined, records: 1050 }).ok).toBe(true);
  expect(checkAfterWrk(1000, 50, { served: undefined, records: 990 }).ok).toBe(false);
});

test("after the load client, records must equal the requests sent", () => {
  expect(checkAfterLoad(2000, { served: 2000, records: 2000 }).ok).toBe(true);
  expect(checkAfterLoad(2000, { served: 2000, records: 1999 }).ok).toBe(false);
  expect(checkAfterLoad(2000, { served: undefined, records: 2000 }).ok).toBe(true);
});

test("the markdown table is padded, escapes pipes and has a separator row", () => {
  expect(markdownTable(["a", "bb"], [["x|y", "1"]])).toBe(
    ["| a    | bb  |", "| ---- | --- |", "| x\\|y | 1   |"].join("\n"),
  );
});

test("CPU per request comes from /proc: the machine's busy ticks and a process's user and system time", async () => {
  const stat = [
    "cpu  1000 20 300 9000 50 7 13 400 0 0",
    "cpu0 500 10 150 4500 25 3 6 200 0 0",
    "intr 12345",
  ].join("\n");
  // user + nice + system + irq + softirq; idle, iowait and steal are not busy. 10 ms per tick.
  expect(parseProcStat(stat)).toEqual({
    busyMs: (1000 + 20 + 300 + 7 + 13) * 10,
    stolenMs: 400 * 10,
    totalMs: (1000 + 20 + 300 + 9000 + 50 + 7 + 13 + 400) * 10,
  });
  expect(() => parseProcStat("intr 1")).toThrow(/no aggregate cpu/);
  expect(() => parseProcStat("cpu  1000 20 300")).toThrow(/bad \/proc\/stat line/);
  // A command name with spaces and a parenthesis must not shift the fields.
  const pid = "4242 (node (kg) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 11 0 5 1 1";
  expect(parseProcPidStat(pid)).toBe((250 + 40) * 10);

  const reading = (busy: number, stolen: number, total: number, processMs?: number) => ({
    machineBusyMs: busy,
    machineStolenMs: stolen,
    machineTotalMs: total,
    ...(processMs === undefined ? {} : { processMs }),
  });
  expect(cpuPerRequest(reading(1000, 0, 5000, 400), reading(1900, 0, 7000, 850), 5000)).toEqual({
    machineUs: 180,
    processUs: 90,
  });
  expect(cpuPerRequest(reading(0, 0, 0), reading(10, 0, 20), 100)).toEqual({ machineUs: 100 });
  // Of 2,000 ms of CPU time between the readings, 900 were busy and 300 stolen.
  expect(stolenShare(reading(1000, 100, 5000), reading(1900, 400, 7000))).toBe(0.15);
  expect(busyShare(reading(1000, 100, 5000), reading(1900, 400, 7000))).toBe(0.45);
  // Readings taken within one tick: no time passed, nothing to share.
  expect(stolenShare(reading(5, 5, 50), reading(5, 5, 50))).toBe(0);

  // This machine's own figures: busy time never runs backwards, and this process used some CPU.
  const before = await readCpu(process.pid);
  let x = 0;
  for (let i = 0; i < 5e7; i++) x += i % 7;
  const after = await readCpu(process.pid);
  expect(x).toBeGreaterThan(0);
  expect(after.machineBusyMs).toBeGreaterThanOrEqual(before.machineBusyMs);
  expect(after.machineTotalMs).toBeGreaterThan(before.machineTotalMs);
  expect(after.processMs!).toBeGreaterThan(before.processMs!);
  const share = stolenShare(before, after);
  expect(share).toBeGreaterThanOrEqual(0);
  expect(share).toBeLessThan(1);
});

/** A 2-core machine as describeMachine reports it, with the given load and CPU shares at rest. */
/** A 10 s wrk run at `rps` whose p50 is a quarter of its p99. */
function wrkRun(rps: number, p99Ms: number): WrkRun {
  return {
    requests: rps * 10,
    statusErrors: 0,
    socketErrors: 0,
    durationS: 10,
    rps,
    p50Ms: p99Ms / 4,
    p99Ms,
    meanMs: p99Ms / 3,
  };
}

function machineAt(loadAverage: number, busyShare: number, stolenShare: number): MachineInfo {
  return {
    cores: 2,
    cpuModel: "Intel(R) Xeon(R) Processor",
    memoryBytes: 24e9,
    kernel: "6.1.0",
    node: "v20.20.2",
    wrk: "wrk 4.1.0",
    database: "postgres",
    redis: true,
    loadAverage,
    atRest: { seconds: 2, busyShare, stolenShare },
  };
}

test("the run's header says how busy the machine was, and how much CPU the hypervisor withheld, before it began", () => {
  const line = describeRun(machineAt(2.75, 0.254, 0.1), 3, 10);
  expect(line).toBe(
    "2 cores (Intel(R) Xeon(R) Processor), Node v20.20.2, wrk 4.1.0, database postgres + redis; " +
      "at start: load average 2.75, CPU 25.4 % busy and 10.0 % stolen over 2 s; " +
      "median of 3 run(s), 10s per wrk run",
  );
});

test("each worker count's share of direct comes from the direct runs paired with its own runs", () => {
  const run = (rps: number): WrkRun => ({
    requests: rps * 10,
    statusErrors: 0,
    socketErrors: 0,
    durationS: 10,
    rps,
    p50Ms: 1,
    p99Ms: 5,
    meanMs: 1,
  });
  const check = checkAfterWrk(1000, 50, { served: undefined, records: 1000 });
  const rows = buildRows(
    {
      workers: {
        byWorkers: [
          {
            workers: 1,
            runs: [
              { direct: run(80_000), gateway: run(16_000), check },
              { direct: run(100_000), gateway: run(20_000), check },
              { direct: run(90_000), gateway: run(18_000), check },
            ],
          },
          {
            workers: 2,
            // The direct side slowed down by the time two workers ran: the share follows it.
            runs: [
              { direct: run(60_000), gateway: run(27_000), check },
              { direct: run(50_000), gateway: run(24_000), check },
              { direct: run(70_000), gateway: run(30_000), check },
            ],
          },
        ],
      },
    },
    1000,
  );
  const one = rows.find((r) => r.scenario === "c=50 throughput --workers 1");
  const two = rows.find((r) => r.scenario === "c=50 throughput --workers 2");
  expect(one).toMatchObject({ direct: "90,000 req/s", added: "20.0 % of direct" });
  expect(two).toMatchObject({ direct: "60,000 req/s", added: "45.0 % of direct, ×1.50 vs 1 worker" });
  expect(two?.gateway).toMatch(/^27,000 req\/s/);
});

test("the bare Node proxy's rows are a reference beside the gateway's, never judged against a target", () => {
  const cpu = { direct: { machineUs: 30 }, gateway: { machineUs: 200, processUs: 120 } };
  const pair = (direct: number, bare: number, gateway: number) => ({
    direct: wrkRun(direct, 1),
    bare: wrkRun(bare, 1.5),
    gateway: wrkRun(gateway, 2.5),
    cpu: { ...cpu, bare: { machineUs: 110, processUs: 60 } },
    stolen: { direct: direct / 1e6, bare: bare / 1e6, gateway: gateway / 1e6 },
  });
  const pairs = [pair(40_000, 16_000, 8_000), pair(50_000, 15_000, 9_000), pair(45_000, 14_000, 7_000)];
  const rows = buildRows({ latency: pairs, throughput: pairs }, 1000);
  const row = (scenario: string) => rows.find((r) => r.scenario === scenario);

  expect(row("c=50 throughput")).toMatchObject({
    added: "17.8 % of direct (runs 20.0, 18.0, 15.6 %)",
    verdict: "FAIL",
  });
  expect(row("c=50 throughput (bare Node proxy)")).toMatchObject({
    direct: "45,000 req/s",
    gateway: "15,000 req/s",
    added: "33.3 % of direct (runs 40.0, 30.0, 31.1 %)",
    target: "–",
    verdict: "info",
  });
  expect(row("c=1 latency p99")).toMatchObject({
    added: "+1.500 ms (runs +1.500, +1.500, +1.500 ms)",
    verdict: "FAIL",
  });
  expect(row("c=1 latency p99 (bare Node proxy)")).toMatchObject({
    added: "+0.500 ms (runs +0.500, +0.500, +0.500 ms)",
    verdict: "info",
  });
  expect(row("c=50 CPU per request (bare Node proxy)")?.gateway).toBe(
    "110 µs (machine), of which the proxy process 60 µs",
  );
  // Steal: the median of each side's runs, and the most any single run lost.
  expect(row("c=50 CPU stolen by the hypervisor")).toMatchObject({
    direct: "4.5 %",
    gateway: "0.8 % (bare Node proxy 1.5 %)",
    added: "most in one run: 5.0 %",
    verdict: "info",
  });

  // A run without the proxy (--no-bare-proxy) gives no reference rows rather than partial medians.
  const withoutBare = { ...pairs[1]!, bare: undefined, stolen: { direct: 0.05, gateway: 0.009 } };
  const partial = buildRows({ throughput: [pairs[0]!, withoutBare] }, 1000);
  expect(partial.some((r) => r.scenario.includes("bare Node proxy"))).toBe(false);
  expect(partial.some((r) => r.gateway.includes("bare Node proxy"))).toBe(false);
});

test("the recording Node proxy's rows follow the bare proxy's, as a reference that is never judged", () => {
  const pair = (direct: number, recording: number, gateway: number) => ({
    direct: wrkRun(direct, 1),
    bare: wrkRun(16_000, 1.4),
    recording: wrkRun(recording, 3),
    gateway: wrkRun(gateway, 3.2),
    cpu: {
      direct: { machineUs: 30 },
      gateway: { machineUs: 200, processUs: 120 },
      bare: { machineUs: 110, processUs: 60 },
      recording: { machineUs: 170, processUs: 100 },
    },
    stolen: { direct: 0.01, bare: 0.02, recording: 0.04, gateway: 0.03 },
  });
  const pairs = [pair(40_000, 10_000, 8_000), pair(50_000, 11_000, 9_000), pair(45_000, 9_000, 7_000)];
  const rows = buildRows({ latency: pairs, throughput: pairs }, 1000);
  const names = rows.map((r) => r.scenario);
  const row = (scenario: string) => rows.find((r) => r.scenario === scenario);

  expect(row("c=50 throughput (recording Node proxy)")).toMatchObject({
    gateway: "10,000 req/s",
    added: "22.2 % of direct (runs 25.0, 22.0, 20.0 %)",
    target: "–",
    verdict: "info",
  });
  expect(row("c=1 latency p99 (recording Node proxy)")).toMatchObject({
    added: "+2.000 ms (runs +2.000, +2.000, +2.000 ms)",
    verdict: "info",
  });
  expect(row("c=50 CPU per request (recording Node proxy)")?.gateway).toBe(
    "170 µs (machine), of which the proxy process 100 µs",
  );
  // The bare proxy first, then the recording one: each adds to the hop before it.
  expect(names.indexOf("c=50 throughput (recording Node proxy)")).toBe(
    names.indexOf("c=50 CPU per request (bare Node proxy)") + 1,
  );
  expect(row("c=50 CPU stolen by the hypervisor")).toMatchObject({
    gateway: "3.0 % (bare Node proxy 2.0 %, recording Node proxy 4.0 %)",
    added: "most in one run: 4.0 %",
  });
  // The gateway's own verdicts are unchanged by the references beside them.
  expect(row("c=50 throughput")?.verdict).toBe("FAIL");
  expect(row("c=1 latency p99")?.verdict).toBe("FAIL");

  // Without a database there is no recording proxy, and no partial rows for it.
  const noRecording = { ...pairs[1]!, recording: undefined };
  const partial = buildRows({ throughput: [pairs[0]!, noRecording] }, 1000);
  expect(partial.some((r) => r.scenario.includes("recording Node proxy"))).toBe(false);
  expect(partial.find((r) => r.scenario === "c=50 throughput (bare Node proxy)")).toBeDefined();
});

test("each run's own figure follows the median, so a reader sees how far the runs spread", () => {
  const run = (rps: number, p50Ms: number, p99Ms: number): WrkRun => ({
    requests: rps * 10,
    statusErrors: 0,
    socketErrors: 0,
    durationS: 10,
    rps,
    p50Ms,
    p99Ms,
    meanMs: p50Ms,
  });
  const cpu = { direct: { machineUs: 30 }, gateway: { machineUs: 200, processUs: 120 } };
  const stolen = { direct: 0, gateway: 0 };
  // The second run's gateway p50 is below direct's: its added figure is negative, not clipped.
  const pairs = [
    { direct: run(40_000, 0.2, 0.4), gateway: run(10_000, 0.35, 1.3), cpu, stolen },
    { direct: run(60_000, 0.3, 0.5), gateway: run(12_000, 0.25, 2.9), cpu, stolen },
    { direct: run(50_000, 0.2, 0.3), gateway: run(11_000, 0.3, 1.2), cpu, stolen },
  ];
  const rows = buildRows({ latency: pairs, throughput: pairs }, 1000);
  const row = (scenario: string) => rows.find((r) => r.scenario === scenario);

  // Medians first (of each side, as before), then the runs in the order they were made.
  expect(row("c=50 throughput")?.added).toBe("22.0 % of direct (runs 25.0, 20.0, 22.0 %)");
  expect(row("c=1 latency p99")?.added).toBe("+0.900 ms (runs +0.900, +2.400, +0.900 ms)");
  expect(row("c=1 latency p50")?.added).toBe("+0.100 ms (runs +0.150, -0.050, +0.100 ms)");

  // One run has nothing to spread: the figure stands alone.
  const single = buildRows({ throughput: [pairs[0]!] }, 1000);
  expect(single.find((r) => r.scenario === "c=50 throughput")?.added).toBe("25.0 % of direct");
});

test("a wrk run with any error-status response stops the bench instead of being measured", () => {
  const run = (statusErrors: number): WrkRun => ({
    requests: 5000,
    statusErrors,
    socketErrors: 0,
    durationS: 1,
    rps: 5000,
    p50Ms: 0.2,
    p99Ms: 1,
    meanMs: 0.3,
  });
  const url = "http://127.0.0.1:1/v1/chat/completions";
  expect(assertAnswered(run(0), url)).toEqual(run(0));
  expect(() => assertAnswered(run(1), url)).toThrow(
    "1 of 5000 responses from http://127.0.0.1:1/v1/chat/completions had an error status",
  );
});

test("a run on a busy or starved host says so under the table, and a quiet one says nothing", () => {
  const run = (p99Ms: number): WrkRun => ({
    requests: 10_000,
    statusErrors: 0,
    socketErrors: 0,
    durationS: 10,
    rps: 1000,
    p50Ms: p99Ms / 4,
    p99Ms,
    meanMs: p99Ms / 3,
  });
  const cpu = { direct: { machineUs: 30 }, gateway: { machineUs: 200, processUs: 120 } };
  const pair = (directP99: number, stolen: { direct: number; gateway: number; bare?: number }) => ({
    direct: run(directP99),
    gateway: run(directP99 + 0.5),
    cpu,
    stolen,
  });

  const quiet = { direct: 0.001, gateway: 0.004 };
  expect(
    hostWarnings(machineAt(0.5, 0.02, 0.01), {
      latency: [pair(0.4, quiet), pair(0.5, quiet), pair(0.45, quiet)],
      throughput: [pair(2, quiet)],
    }),
  ).toEqual([]);
  expect(renderHostWarnings([])).toEqual([]);

  const warnings = hostWarnings(machineAt(0.5, 0.25, 0.08), {
    latency: [pair(0.4, quiet), pair(1.25, { direct: 0.02, gateway: 0.06 }), pair(0.45, quiet)],
    throughput: [pair(2, quiet), pair(2, { direct: 0.03, gateway: 0.01, bare: 0.181 })],
  });
  expect(warnings).toEqual([
    "Before the run, other work kept 25.0 % of the CPU busy.",
    "Before the run, the hypervisor withheld 8.0 % of CPU time.",
    "During the c=1 runs the hypervisor withheld up to 6.0 % of CPU time (gateway, run 2).",
    "During the c=50 runs the hypervisor withheld up to 18.1 % of CPU time (bare proxy, run 2).",
    "Direct's own p99 at concurrency 1 reached 1.250 ms, more than the 1 ms the gateway may add: " +
      "the host's scheduling shapes the tail.",
  ]);
  const lines = renderHostWarnings(warnings);
  expect(lines[1]).toMatch(/^Host warnings \(the verdicts stand as measured/);
  expect(lines.slice(3)).toEqual(warnings.map((w) => `- ${w}`));
});
