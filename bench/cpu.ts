// CPU time spent per request during a load run, read from Linux's /proc: the whole machine's busy
// time (every process on it: the gateway, the upstream, the load generator, the database) and the
// gateway process's own (all of its threads). When the parties share the machine's cores,
// throughput is bounded by the machine's total per request, not only by the gateway's.
import { readFile } from "node:fs/promises";

/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for user space. */
const TICK_MS = 10;

export interface CpuReading {
  /** Busy time of all CPUs together (user, nice, system, irq, softirq), in ms. */
  machineBusyMs: number;
  /** User plus system time of the process, in ms, when a process was given. */
  processMs?: number;
}

export interface CpuPerRequest {
  /** Busy CPU time of the whole machine per request, µs. */
  machineUs: number;
  /** CPU time of the process per request, µs. */
  processUs?: number;
}

/** The aggregate `cpu` line of /proc/stat as busy milliseconds (idle, iowait and steal excluded). */
export function parseProcStat(text: string): number {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no aggregate cpu line in /proc/stat");
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = [user, nice, system, irq, softirq];
  if (busy.some((v) => v === undefined || !Number.isFinite(v)))
    throw new Error(`bad /proc/stat line: ${line}`);
  return busy.reduce<number>((a, b) => a + b!, 0) * TICK_MS;
}

/** utime + stime of a /proc/<pid>/stat line, in ms. The command name may hold spaces and parens. */
export function parseProcPidStat(text: string): number {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("bad /proc/<pid>/stat");
  return (utime + stime) * TICK_MS;
}

export async function readCpu(pid?: number): Promise<CpuReading> {
  const machineBusyMs = parseProcStat(await readFile("/proc/stat", "utf8"));
  if (pid === undefined) return { machineBusyMs };
  return { machineBusyMs, processMs: parseProcPidStat(await readFile(`/proc/${pid}/stat`, "utf8")) };
}

export function cpuPerRequest(before: CpuReading, after: CpuReading, requests: number): CpuPerRequest {
  const per = (ms: number): number => (requests > 0 ? (ms * 1000) / requests : 0);
  const out: CpuPerRequest = { machineUs: per(after.machineBusyMs - before.machineBusyMs) };
  if (before.processMs !== undefined && after.processMs !== undefined)
    out.processUs = per(after.processMs - before.processMs);
  return out;
}
