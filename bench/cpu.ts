// CPU time spent per request during a load run, read from Linux's /proc: the whole machine's busy
// time (every process on it: the gateway, the upstream, the load generator, the database) and the
// gateway process's own (all of its threads). When the parties share the machine's cores,
// throughput is bounded by the machine's total per request, not only by the gateway's. On a virtual
// machine, /proc also tells how much CPU time the hypervisor withheld.
import { readFile } from "node:fs/promises";

/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for user space. */
const TICK_MS = 10;

export interface CpuReading {
  /** Busy time of all CPUs together (user, nice, system, irq, softirq), in ms. */
  machineBusyMs: number;
  /** Time the hypervisor ran another guest while a virtual CPU of this one wanted to run, in ms. */
  machineStolenMs: number;
  /** All CPU time: busy, idle, iowait and stolen, in ms. */
  machineTotalMs: number;
  /** User plus system time of the process, in ms, when a process was given. */
  processMs?: number;
}

export interface CpuPerRequest {
  /** Busy CPU time of the whole machine per request, µs. */
  machineUs: number;
  /** CPU time of the process per request, µs. */
  processUs?: number;
}

export interface MachineTimes {
  /** user, nice, system, irq and softirq. */
  busyMs: number;
  /** The steal column; 0 on bare metal. */
  stolenMs: number;
  /** Busy, idle, iowait and stolen together (guest time is already inside user). */
  totalMs: number;
}

/** The aggregate `cpu` line of /proc/stat, in milliseconds. */
export function parseProcStat(text: string): MachineTimes {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no aggregate cpu line in /proc/stat");
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const fields = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (fields.some((v) => v === undefined || !Number.isFinite(v)))
    throw new Error(`bad /proc/stat line: ${line}`);
  const busyMs = (user! + nice! + system! + irq! + softirq!) * TICK_MS;
  const stolenMs = steal! * TICK_MS;
  return { busyMs, stolenMs, totalMs: busyMs + (idle! + iowait!) * TICK_MS + stolenMs };
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
  const m = parseProcStat(await readFile("/proc/stat", "utf8"));
  const machine = { machineBusyMs: m.busyMs, machineStolenMs: m.stolenMs, machineTotalMs: m.totalMs };
  if (pid === undefined) return machine;
  return { ...machine, processMs: parseProcPidStat(await readFile(`/proc/${pid}/stat`, "utf8")) };
}

/**
 * The share of the machine's CPU time the hypervisor gave to other guests between two readings.
 * On a virtual machine whose host is oversubscribed, stalls come from there that no process on
 * the machine caused, and every figure taken meanwhile carries them.
 */
export function stolenShare(before: CpuReading, after: CpuReading): number {
  return shareOfTime(before, after, (r) => r.machineStolenMs);
}

/** The share of the machine's CPU time that was busy between two readings. */
export function busyShare(before: CpuReading, after: CpuReading): number {
  return shareOfTime(before, after, (r) => r.machineBusyMs);
}

function shareOfTime(before: CpuReading, after: CpuReading, part: (r: CpuReading) => number): number {
  const total = after.machineTotalMs - before.machineTotalMs;
  return total > 0 ? (part(after) - part(before)) / total : 0;
}

export function cpuPerRequest(before: CpuReading, after: CpuReading, requests: number): CpuPerRequest {
  const per = (ms: number): number => (requests > 0 ? (ms * 1000) / requests : 0);
  const out: CpuPerRequest = { machineUs: per(after.machineBusyMs - before.machineBusyMs) };
  if (before.processMs !== undefined && after.processMs !== undefined)
    out.processUs = per(after.processMs - before.processMs);
  return out;
}
