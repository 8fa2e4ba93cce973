// The machine a result was measured on: figures mean little without it.
import { cpus, loadavg, release, totalmem } from "node:os";
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
}

export async function describeMachine(
  database: MachineInfo["database"],
  redis: boolean,
): Promise<MachineInfo> {
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
  };
}
