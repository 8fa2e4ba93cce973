// Drives a fake upstream that runs in another process: spawn it, then call its control API.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { FaultOptions, UsageInput } from "./server.js";
import type { ReceivedRequest, WireFamily } from "./types.js";

/** FaultOptions as sent over JSON, where "always" replaces Infinity. */
type WireScope = Omit<FaultOptions, "times"> & { times?: number | "always" };

export interface FakeUpstreamClient {
  readonly url: string;
  requests(): Promise<ReceivedRequest[]>;
  reset(opts?: { settings?: boolean }): Promise<void>;
  fail(opts: { status: number; retryAfter?: number; message?: string } & WireScope): Promise<void>;
  delay(ms: number, scope?: WireScope): Promise<void>;
  hang(scope?: WireScope): Promise<void>;
  resetMidStream(opts?: { afterChunks?: number } & WireScope): Promise<void>;
  malformedChunk(opts?: { afterChunks?: number } & WireScope): Promise<void>;
  streamError(opts?: { afterChunks?: number } & WireScope): Promise<void>;
  streamChunks(n: number, delayMs?: number): Promise<void>;
  setUsage(family: WireFamily, usage: UsageInput): Promise<void>;
  setModels(family: WireFamily, models: string[]): Promise<void>;
  expectCredential(family: WireFamily, value: string | undefined): Promise<void>;
  toolCalls(count: number | undefined): Promise<void>;
}

function wireTimes<T extends { times?: number | "always" }>(o: T): T {
  return o.times === Infinity ? { ...o, times: "always" } : o;
}

export function fakeUpstreamClient(url: string): FakeUpstreamClient {
  const post = async (action: string, body: unknown): Promise<void> => {
    const res = await fetch(`${url}/__fake/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`fake control ${action} failed: ${res.status} ${await res.text()}`);
  };
  return {
    url,
    async requests() {
      const res = await fetch(`${url}/__fake/requests`);
      return (await res.json()) as ReceivedRequest[];
    },
    reset: (opts = {}) => post("reset", opts),
    fail: (opts) => post("fail", wireTimes(opts)),
    delay: (ms, scope = {}) => post("delay", { ms, ...wireTimes(scope) }),
    hang: (scope = {}) => post("hang", wireTimes(scope)),
    resetMidStream: (opts = {}) => post("reset-mid-stream", wireTimes(opts)),
    malformedChunk: (opts = {}) => post("malformed-chunk", wireTimes(opts)),
    streamError: (opts = {}) => post("stream-error", wireTimes(opts)),
    streamChunks: (n, delayMs) => post("stream-chunks", { n, delayMs }),
    setUsage: (family, usage) => post("usage", { family, ...usage }),
    setModels: (family, models) => post("models", { family, models }),
    expectCredential: (family, value) => post("credential", { family, value: value ?? null }),
    toolCalls: (count) => post("tool-calls", { count: count ?? null }),
  };
}

export interface Listening {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/** Runs `node <entry> ...args` and resolves once it printed its `{"url": ...}` line. */
export async function spawnListening(entry: string, args: string[] = []): Promise<Listening> {
  const child = spawn(process.execPath, [entry, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    if (!child.stdout) return reject(new Error("no stdout"));
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const parsed = JSON.parse(line) as { url?: unknown };
      if (typeof parsed.url === "string") resolve(parsed.url);
      else reject(new Error(`${entry} printed no url: ${line}`));
    });
    child.once("exit", (code) => reject(new Error(`${entry} exited early (code ${code})`)));
    child.once("error", reject);
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface SpawnedFake extends Listening {
  client: FakeUpstreamClient;
}

/** Starts the bundled fake (default dist/fake-upstream.js, built by scripts/build.mjs) in its own process. */
export async function spawnFakeUpstream(opts: { entry?: string; port?: number } = {}): Promise<SpawnedFake> {
  const proc = await spawnListening(opts.entry ?? "dist/fake-upstream.js", [
    "--port",
    String(opts.port ?? 0),
  ]);
  return { ...proc, client: fakeUpstreamClient(proc.url) };
}
