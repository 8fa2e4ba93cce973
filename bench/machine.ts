// The machine a result was measured on: figures mean little without it.
import { cpus, loadavg, release, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { busyShare, readCpu, stolenShare } from "./cpu.js";
import { wrkVersion } from "./wrk.js";

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  node: string;
  wrk: string;
  database: "pglite" | "postgres" | "n/a";
  redis: boolean;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
  /**
   * The machine's CPU over a few seconds before anything was started: what other processes keep
   * busy, and what the hypervisor withholds (steal), stand behind every figure of the run.
   */
  atRest: { seconds: number; busyShare: number; stolenShare: number };
}

export async function describeMachine(
  database: MachineInfo["database"],
  redis: boolean,
  restSeconds = 2,
): Promise<MachineInfo> {
  const before = await readCpu();
  // A measurement window, not a wait for something to happen.
  await sleep(restSeconds * 1000);
  const after = await readCpu();
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    wrk: await wrkVersion(),
    database,
    redis,
    loadAverage: loadavg()[0] ?? 0,
    atRest: {
      seconds: restSeconds,
      busyShare: busyShare(before, after),
      stolenShare: stolenShare(before, after),
    },
  };
}
