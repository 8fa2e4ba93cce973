// Turns the scenario results into the report rows: each figure the median over runs, compared
// with its target. Performance targets pass or fail; record checks are correctness, kept apart.
import { markdownTable } from "./markdown.js";
import type { RecordCheck } from "./record-check.js";
import { MB } from "./rss.js";
import { medianOf } from "./stats.js";
import type { ProfileSummary } from "./profile.js";
import type { SoakResult } from "./scenarios/soak.js";
import type { StreamingPair } from "./scenarios/streaming.js";
import type { StreamsResult } from "./scenarios/streams.js";
import type { WorkersResult } from "./scenarios/workers.js";
import { REFERENCES, type Reference, type WrkPair } from "./scenarios/wrk-compare.js";
import type { CpuPerRequest } from "./cpu.js";
import type { MachineInfo } from "./machine.js";
import type { WrkRun } from "./wrk.js";

export interface BenchResults {
  latency?: WrkPair[];
  throughput?: WrkPair[];
  streaming?: StreamingPair[];
  soak?: SoakResult;
  streams?: StreamsResult;
  workers?: WorkersResult;
  profile?: ProfileSummary;
}

/** The targets on the reference 2-core machine, where gateway, upstream and load share the cores. */
export const TARGETS = {
  addedP50Ms: 0.3,
  addedP99Ms: 1,
  throughputRatio: 0.25,
  addedTtfbP50Ms: 1,
  openStreamsRssMb: 150,
  soakRssGrowth: 0.1,
};

export type Verdict = "pass" | "FAIL" | "info" | "skipped";

export interface Row {
  scenario: string;
  direct: string;
  gateway: string;
  added: string;
  target: string;
  verdict: Verdict;
  /** Record checks are correctness, not performance: they fail the run whatever --strict says. */
  correctness?: boolean;
}

const fixed = (v: number): string => (v < 10 ? v.toFixed(3) : v.toFixed(1));
const ms = (v: number): string => (Number.isFinite(v) ? `${fixed(v)} ms` : "–");
const rps = (v: number): string => `${Math.round(v).toLocaleString("en-US")} req/s`;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
const count = (n: number): string => n.toLocaleString("en-US");
const us = (v: number): string => `${Math.round(v).toLocaleString("en-US")} µs`;
const verdict = (ok: boolean): Verdict => (ok ? "pass" : "FAIL");
const signed = (v: number): string =>
  Number.isFinite(v) ? `${v >= 0 ? "+" : "-"}${fixed(Math.abs(v))}` : "–";
const signedMs = (v: number): string => (Number.isFinite(v) ? `${signed(v)} ms` : "–");

/**
 * Each run's own figure after the median, e.g. " (runs +0.912, +1.404, +2.130 ms)": on shared cores one
 * run can land far from the others, and a median alone does not show how close a target was.
 */
function eachRun(values: readonly number[], format: (v: number) => string, unit: string): string {
  return values.length > 1 ? ` (runs ${values.map(format).join(", ")} ${unit})` : "";
}

/** Added time: the difference of the medians, then each run's own difference. */
const addedMs = (median: number, runs: readonly number[]): string =>
  signedMs(median) + eachRun(runs, signed, "ms");

/**
 * The reference proxies' rows describe this machine, never judged against a target: the bare Node
 * proxy is one Node hop, the recording Node proxy that hop plus the usage row every request needs.
 */
const REFERENCE_LABELS: Record<Reference, string> = {
  bare: "bare Node proxy",
  recording: "recording Node proxy",
};

/** A reference proxy's side of every pair (its run and its CPU), when every run measured it. */
function referenceOf(
  pairs: WrkPair[],
  ref: Reference,
): { run: (p: WrkPair) => WrkRun; cpu: (p: WrkPair) => CpuPerRequest } | undefined {
  if (!pairs.every((p) => p[ref] !== undefined && p.cpu[ref] !== undefined)) return undefined;
  return { run: (p) => p[ref]!, cpu: (p) => p.cpu[ref]! };
}

function latencyRows(
  name: string,
  pairs: WrkPair[],
  targets: { p50?: number; p99?: number },
  side: (p: WrkPair) => WrkRun = (p) => p.gateway,
  suffix = "",
): Row[] {
  return (["p50", "p99"] as const).map((q) => {
    const pick = q === "p50" ? (r: { p50Ms: number }) => r.p50Ms : (r: { p99Ms: number }) => r.p99Ms;
    const d = medianOf(pairs, (p) => pick(p.direct));
    const g = medianOf(pairs, (p) => pick(side(p)));
    const limit = targets[q];
    return {
      scenario: `${name} latency ${q}${suffix}`,
      direct: ms(d),
      gateway: ms(g),
      added: addedMs(
        g - d,
        pairs.map((p) => pick(side(p)) - pick(p.direct)),
      ),
      target: limit === undefined ? "–" : `added ≤ ${limit} ms`,
      verdict: limit === undefined ? "info" : verdict(g - d <= limit),
    };
  });
}

/**
 * The whole machine's CPU per request on each side (every process, the database included), and the
 * gateway process's share: on shared cores, the total is what bounds throughput.
 */
function cpuRow(
  scenario: string,
  pairs: WrkPair[],
  side: (p: WrkPair) => CpuPerRequest = (p) => p.cpu.gateway,
  whose = "the gateway process",
): Row {
  const d = medianOf(pairs, (p) => p.cpu.direct.machineUs);
  const g = medianOf(pairs, (p) => side(p).machineUs);
  const own = pairs.every((p) => side(p).processUs !== undefined)
    ? medianOf(pairs, (p) => side(p).processUs!)
    : undefined;
  return {
    scenario,
    direct: `${us(d)} (machine)`,
    gateway: `${us(g)} (machine)${own === undefined ? "" : `, of which ${whose} ${us(own)}`}`,
    added: `+${us(g - d)}`,
    target: "–",
    verdict: "info",
  };
}

export const percent = (share: number): string => `${(100 * share).toFixed(1)} %`;

/**
 * CPU time the hypervisor withheld during each side's runs. A stolen vCPU stalls whichever party
 * was on it, so a run with much steal carries stalls that none of the parties caused.
 */
function stolenRow(scenario: string, pairs: WrkPair[]): Row {
  const all = pairs.flatMap((p) => [
    p.stolen.direct,
    p.stolen.gateway,
    ...REFERENCES.flatMap((ref) => (p.stolen[ref] === undefined ? [] : [p.stolen[ref]])),
  ]);
  const refs = REFERENCES.filter((ref) => pairs.every((p) => p.stolen[ref] !== undefined)).map(
    (ref) => `${REFERENCE_LABELS[ref]} ${percent(medianOf(pairs, (p) => p.stolen[ref]!))}`,
  );
  return {
    scenario,
    direct: percent(medianOf(pairs, (p) => p.stolen.direct)),
    gateway: `${percent(medianOf(pairs, (p) => p.stolen.gateway))}${refs.length ? ` (${refs.join(", ")})` : ""}`,
    added: `most in one run: ${percent(Math.max(...all))}`,
    target: "–",
    verdict: "info",
  };
}

/** Throughput through one side, as a share of the direct runs made alongside it. */
function throughputRow(
  scenario: string,
  pairs: WrkPair[],
  side: (p: WrkPair) => WrkRun,
  judged: boolean,
): Row {
  const d = medianOf(pairs, (p) => p.direct.rps);
  const g = medianOf(pairs, (p) => side(p).rps);
  return {
    scenario,
    direct: rps(d),
    gateway: rps(g),
    added: `${((100 * g) / d).toFixed(1)} % of direct${eachRun(
      pairs.map((p) => (100 * side(p).rps) / p.direct.rps),
      (v) => v.toFixed(1),
      "%",
    )}`,
    target: judged ? `≥ ${100 * TARGETS.throughputRatio} % of direct` : "–",
    verdict: judged ? verdict(g / d >= TARGETS.throughputRatio) : "info",
  };
}

function recordDetail(c: RecordCheck): string {
  const served = c.served === undefined ? "" : `, ${count(c.served)} served`;
  return `${count(c.records)} records${served}, ${count(c.clientCount)} ${c.clientLabel}`;
}

function recordRow(scenario: string, checks: RecordCheck[], target: string): Row {
  const ok = checks.filter((c) => c.ok).length;
  const last = checks[checks.length - 1];
  const detail = last ? recordDetail(last) : "";
  return {
    scenario,
    direct: "–",
    gateway: checks.length > 1 ? `${ok}/${checks.length} runs pass; last: ${detail}` : detail,
    added: "–",
    target,
    verdict: checks.length === 0 ? "skipped" : verdict(ok === checks.length),
    correctness: true,
  };
}

const checksOf = (pairs: { check?: RecordCheck }[]): RecordCheck[] =>
  pairs.flatMap((p) => (p.check ? [p.check] : []));

export function buildRows(r: BenchResults, streams: number): Row[] {
  const rows: Row[] = [];
  if (r.latency?.length) {
    rows.push(...latencyRows("c=1", r.latency, { p50: TARGETS.addedP50Ms, p99: TARGETS.addedP99Ms }));
    for (const ref of REFERENCES) {
      const side = referenceOf(r.latency, ref);
      if (side) rows.push(...latencyRows("c=1", r.latency, {}, side.run, ` (${REFERENCE_LABELS[ref]})`));
    }
    rows.push(stolenRow("c=1 CPU stolen by the hypervisor", r.latency));
    const checks = checksOf(r.latency);
    if (checks.length) rows.push(recordRow("c=1 usage records", checks, "records = requests served"));
  }
  if (r.throughput?.length) {
    rows.push(throughputRow("c=50 throughput", r.throughput, (p) => p.gateway, true));
    rows.push(...latencyRows("c=50", r.throughput, {}));
    rows.push(cpuRow("c=50 CPU per request", r.throughput));
    for (const ref of REFERENCES) {
      const side = referenceOf(r.throughput, ref);
      if (!side) continue;
      const label = ` (${REFERENCE_LABELS[ref]})`;
      rows.push(throughputRow(`c=50 throughput${label}`, r.throughput, side.run, false));
      rows.push(cpuRow(`c=50 CPU per request${label}`, r.throughput, side.cpu, "the proxy process"));
    }
    rows.push(stolenRow("c=50 CPU stolen by the hypervisor", r.throughput));
    const checks = checksOf(r.throughput);
    if (checks.length) rows.push(recordRow("c=50 usage records", checks, "records = requests served"));
  }
  if (r.streaming?.length) {
    const s = r.streaming;
    const row = (metric: string, pick: (f: StreamingPair["direct"]) => number, limit?: number): Row => {
      const d = medianOf(s, (p) => pick(p.direct));
      const g = medianOf(s, (p) => pick(p.gateway));
      return {
        scenario: `streaming ${metric}`,
        direct: ms(d),
        gateway: ms(g),
        added: addedMs(
          g - d,
          s.map((p) => pick(p.gateway) - pick(p.direct)),
        ),
        target: limit === undefined ? "–" : `added ≤ ${limit} ms`,
        verdict: limit === undefined ? "info" : verdict(g - d <= limit),
      };
    };
    rows.push(row("TTFB p50", (f) => f.ttfbP50Ms, TARGETS.addedTtfbP50Ms));
    rows.push(row("TTFB p99", (f) => f.ttfbP99Ms));
    rows.push(row("total p50", (f) => f.totalP50Ms));
    const errors = s.reduce((n, p) => n + p.direct.errors + p.gateway.errors, 0);
    if (errors > 0) {
      rows.push({
        scenario: "streaming errors",
        direct: "–",
        gateway: `${errors} failed or incomplete streams`,
        added: "–",
        target: "none",
        verdict: "FAIL",
      });
    }
  }
  if (r.soak) rows.push(...soakRows(r.soak));
  if (r.streams) rows.push(...streamsRows(r.streams, streams));
  if (r.workers) rows.push(...workersRows(r.workers));
  return rows;
}

function soakRows(s: SoakResult): Row[] {
  const rows: Row[] = [];
  const perS = s.load.sent / (s.load.durationMs / 1000);
  const failed = Object.values(s.load.failures).reduce((a, b) => a + b, 0);
  rows.push({
    scenario: `soak ${count(s.load.sent)} requests`,
    direct: "–",
    gateway: `${rps(perS)}, ${count(failed)} failed${s.load.timedOut ? ", time limit hit" : ""}`,
    added: "–",
    target: "no failures",
    verdict: verdict(failed === 0 && !s.load.timedOut),
  });
  if (s.rssWarmBytes !== undefined && s.rssEndBytes !== undefined) {
    const growth = (s.rssEndBytes - s.rssWarmBytes) / s.rssWarmBytes;
    const idle = `peak ${mb(s.rssPeakBytes ?? 0)}; idle before ${mb(s.rssIdleBeforeBytes ?? 0)}, after drain ${mb(s.rssAfterDrainBytes ?? 0)}`;
    rows.push({
      scenario: "soak RSS floor, early → late",
      direct: "–",
      gateway: `${mb(s.rssWarmBytes)} → ${mb(s.rssEndBytes)} (${idle})`,
      added: `${growth >= 0 ? "+" : ""}${(100 * growth).toFixed(1)} %`,
      target: `growth ≤ ${100 * TARGETS.soakRssGrowth} %`,
      verdict: verdict(growth <= TARGETS.soakRssGrowth),
    });
  }
  if (s.check) rows.push(recordRow("soak usage records", [s.check], "records = requests sent"));
  return rows;
}

function streamsRows(s: StreamsResult, streams: number): Row[] {
  const rows: Row[] = [];
  const allOpen = s.hold.open === streams;
  const opened = `${count(s.hold.open)}/${count(streams)} open`;
  rows.push({
    scenario: `${count(streams)} open streams RSS`,
    direct: "–",
    gateway:
      s.openRssBytes === undefined
        ? `${opened} (RSS unknown: give --target-pid)`
        : `${mb(s.openRssBytes)} (idle ${mb(s.idleRssBytes ?? 0)}), ${opened}`,
    added: "–",
    target: `≤ ${TARGETS.openStreamsRssMb} MB, all open`,
    verdict:
      s.openRssBytes === undefined
        ? "info"
        : verdict(allOpen && s.openRssBytes <= TARGETS.openStreamsRssMb * MB),
  });
  if (s.check)
    rows.push(
      recordRow("open streams usage records", [s.check], "records = requests served (client closed)"),
    );
  return rows;
}

function workersRows(w: WorkersResult): Row[] {
  if (w.skipped) {
    return [
      {
        scenario: "c=50 --workers 1 vs 2",
        direct: "–",
        gateway: w.skipped,
        added: "–",
        target: "–",
        verdict: "skipped",
      },
    ];
  }
  const base = w.byWorkers[0] ? medianOf(w.byWorkers[0].runs, (r) => r.gateway.rps) : Number.NaN;
  const rows: Row[] = w.byWorkers.map(({ workers, runs }) => {
    const d = medianOf(runs, (r) => r.direct.rps);
    const g = medianOf(runs, (r) => r.gateway.rps);
    const share = `${((100 * g) / d).toFixed(1)} % of direct`;
    return {
      scenario: `c=50 throughput --workers ${workers}`,
      direct: rps(d),
      gateway: `${rps(g)}, p99 ${ms(medianOf(runs, (r) => r.gateway.p99Ms))}`,
      added: workers === 1 ? share : `${share}, ×${(g / base).toFixed(2)} vs 1 worker`,
      target: "–",
      verdict: "info",
    };
  });
  const checks = w.byWorkers.flatMap((b) => checksOf(b.runs));
  rows.push(recordRow("--workers usage records", checks, "wrk ≤ records ≤ wrk + 50"));
  return rows;
}

/** The line under the title: the machine, its state before the run, and how figures were taken. */
export function describeRun(machine: MachineInfo, runs: number, durationS: number): string {
  const rest = machine.atRest;
  return (
    `${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.wrk}, database ${machine.database}` +
    `${machine.redis ? " + redis" : ""}; at start: load average ${machine.loadAverage.toFixed(2)}, ` +
    `CPU ${percent(rest.busyShare)} busy and ${percent(rest.stolenShare)} stolen over ${rest.seconds} s; ` +
    `median of ${runs} run(s), ${durationS}s per wrk run`
  );
}

export function renderTable(rows: Row[], gatewayLabel: string): string {
  return markdownTable(
    ["scenario", "direct", `via ${gatewayLabel}`, "added", "target", "result"],
    rows.map((r) => [r.scenario, r.direct, r.gateway, r.added, r.target, r.verdict]),
  );
}

export function renderProfile(p: ProfileSummary): string {
  const busy = `${(p.busyMs / 1000).toFixed(2)} s busy, ${(p.idleMs / 1000).toFixed(2)} s idle`;
  return [
    `CPU profile (${p.file}; ${p.windowed ? "load window only" : "whole process"}; ${busy})`,
    "",
    markdownTable(
      ["self time", "%", "function", "location"],
      p.functions.map((f) => [ms(f.selfMs), f.pct.toFixed(1), f.name, f.location]),
    ),
    "",
    markdownTable(
      ["self time", "%", "area"],
      p.areas.map((a) => [ms(a.selfMs), a.pct.toFixed(1), a.name]),
    ),
  ].join("\n");
}
