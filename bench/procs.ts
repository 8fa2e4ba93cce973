// Child processes of the benchmark. Every party (upstream, gateway, load generators) runs in its
// own process so none shares an event loop with the gateway being measured. Every child is tracked
// so that an error or Ctrl-C never leaves one running.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  name: string;
  pid: number;
  exited: Promise<ExitStatus>;
  /** Calls fn with every stdout line from now on. */
  onLine(fn: (line: string) => void): void;
  /** The first stdout line matching `re`. Rejects when the process exits first or after timeoutMs. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The last lines of output, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after graceMs. Resolves once the process has exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

const live = new Set<ChildProcess>();
const TAIL_LINES = 40;

process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export function startProc(spec: SpawnSpec): Proc {
  const child = spawn(spec.command, spec.args, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  live.add(child);
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const remember = (line: string): void => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  // Both streams are read to the end so a chatty child never blocks on a full pipe.
  createInterface({ input: child.stdout! }).on("line", (line) => {
    remember(line);
    for (const w of watchers) w(line);
  });
  createInterface({ input: child.stderr! }).on("line", remember);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const tail = (): string => lines.join("\n");

  return {
    name: spec.name,
    pid: child.pid,
    exited,
    tail,
    onLine(fn) {
      watchers.add(fn);
    },
    waitForLine(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          watchers.delete(watch);
          clearTimeout(timer);
        };
        const watch = (line: string): void => {
          const m = line.match(re);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${spec.name}: no line matching ${re} within ${timeoutMs} ms\n${tail()}`));
        }, timeoutMs);
        watchers.add(watch);
        void exited.then((s) => {
          if (!watchers.has(watch)) return;
          done();
          reject(new Error(`${spec.name} exited (${s.signal ?? s.code}) before printing ${re}\n${tail()}`));
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output; killed after timeoutMs. */
export async function runProc(spec: SpawnSpec, timeoutMs: number): Promise<RunResult> {
  const child = spawn(spec.command, spec.args, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const status = await new Promise<ExitStatus>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    clearTimeout(timer);
    live.delete(child);
  });
  if (status.signal === "SIGKILL") throw new Error(`${spec.name} timed out after ${timeoutMs} ms\n${stderr}`);
  return { ...status, stdout, stderr };
}

/** Stops every child still running (on error or Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 5000).unref();
        }),
    ),
  );
}

/** The URL a bench process prints as its first JSON line, `{"url":"http://…"}`, without a trailing slash. */
export async function waitForUrl(proc: Proc, timeoutMs: number): Promise<string> {
  const m = await proc.waitForLine(/^\{.*"url".*\}$/, timeoutMs);
  const parsed = JSON.parse(m[0]) as { url?: unknown };
  if (typeof parsed.url !== "string") throw new Error(`${proc.name} printed no url: ${m[0]}`);
  return parsed.url.replace(/\/+$/, "");
}
