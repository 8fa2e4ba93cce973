// Signs that a run measured the host rather than the gateway: CPU that other work kept busy before
// the run, CPU time the hypervisor withheld during it, or a direct path whose own tail already
// exceeds what the gateway may add. The verdicts stand as measured; these say how far to trust them.
import type { MachineInfo } from "./machine.js";
import { TARGETS, percent, type BenchResults } from "./report.js";
import type { WrkPair } from "./scenarios/wrk-compare.js";

/**
 * Above these, stalls that none of the parties caused reach the percentiles: at 10 % busy, other
 * work holds a fifth of one of two vCPUs; at 5 % stolen, the hypervisor takes a vCPU away for
 * about one request in twenty at concurrency 1.
 */
export const QUIET_HOST = { restBusyShare: 0.1, stolenShare: 0.05 };

function mostStolen(pairs: WrkPair[]): { share: number; side: string; run: number } {
  let most = { share: 0, side: "direct", run: 1 };
  pairs.forEach((p, i) => {
    const sides: [string, number | undefined][] = [
      ["direct", p.stolen.direct],
      ["bare proxy", p.stolen.bare],
      ["recording proxy", p.stolen.recording],
      ["gateway", p.stolen.gateway],
    ];
    for (const [side, share] of sides) {
      if (share !== undefined && share > most.share) most = { share, side, run: i + 1 };
    }
  });
  return most;
}

export function hostWarnings(machine: MachineInfo, r: BenchResults): string[] {
  const warnings: string[] = [];
  const rest = machine.atRest;
  if (rest.busyShare >= QUIET_HOST.restBusyShare) {
    warnings.push(`Before the run, other work kept ${percent(rest.busyShare)} of the CPU busy.`);
  }
  if (rest.stolenShare >= QUIET_HOST.stolenShare) {
    warnings.push(`Before the run, the hypervisor withheld ${percent(rest.stolenShare)} of CPU time.`);
  }
  const phases: [string, WrkPair[] | undefined][] = [
    ["c=1", r.latency],
    ["c=50", r.throughput],
  ];
  for (const [phase, pairs] of phases) {
    if (!pairs?.length) continue;
    const most = mostStolen(pairs);
    if (most.share >= QUIET_HOST.stolenShare) {
      warnings.push(
        `During the ${phase} runs the hypervisor withheld up to ${percent(most.share)} of CPU time ` +
          `(${most.side}, run ${most.run}).`,
      );
    }
  }
  const directP99 = r.latency?.map((p) => p.direct.p99Ms) ?? [];
  const slowest = Math.max(...directP99);
  if (directP99.length > 0 && slowest > TARGETS.addedP99Ms) {
    warnings.push(
      `Direct's own p99 at concurrency 1 reached ${slowest.toFixed(3)} ms, more than the ` +
        `${TARGETS.addedP99Ms} ms the gateway may add: the host's scheduling shapes the tail.`,
    );
  }
  return warnings;
}

/** The lines printed under the table, or none on a quiet host. */
export function renderHostWarnings(warnings: string[]): string[] {
  if (warnings.length === 0) return [];
  return [
    "",
    "Host warnings (the verdicts stand as measured; a quiet host gives figures that describe the gateway):",
    "",
    ...warnings.map((w) => `- ${w}`),
  ];
}
