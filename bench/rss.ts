// Resident set size of a process, from Linux's /proc (VmRSS is reported in kB).
import { readFile } from "node:fs/promises";

export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB$/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The largest RSS seen over `samples` readings spaced `intervalMs` apart. */
export async function peakRssBytes(pid: number, samples: number, intervalMs: number): Promise<number> {
  let peak = 0;
  for (let i = 0; i < samples; i++) {
    peak = Math.max(peak, await readRssBytes(pid));
    if (i < samples - 1) await new Promise((r) => setTimeout(r, intervalMs));
  }
  return peak;
}

export const MB = 1024 * 1024;
