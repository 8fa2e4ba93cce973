// `npm run bench`: measures keygate (or, with --target, any other gateway) against a bare fast
// upstream and prints a markdown table; the raw figures go to <results-dir>/<timestamp>.json.
// Every party runs in its own process: the upstream (dist/bench-upstream.js), keygate
// (server/bin/keygate.js serve), wrk, and the Node clients (dist/bench-ttfb.js, -load.js, -hold.js).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startBareProxy, startRecordingProxy } from "./bare-proc.js";
import type { BenchContext } from "./context.js";
import { hostWarnings, renderHostWarnings } from "./host-check.js";
import { removeDataDirs, startKeygate, type KeygateOptions, type KeygateProc } from "./keygate-proc.js";
import { describeMachine } from "./machine.js";
import { parseOptions, type BenchOptions, type ScenarioName } from "./options.js";
import { stopAll } from "./procs.js";
import {
  buildRows,
  describeRun,
  renderProfile,
  renderTable,
  TARGETS,
  type BenchResults,
  type Row,
} from "./report.js";
import { latencyScenario } from "./scenarios/latency.js";
import { profileScenario } from "./scenarios/profile.js";
import { soakScenario } from "./scenarios/soak.js";
import { streamingScenario } from "./scenarios/streaming.js";
import { streamsScenario } from "./scenarios/streams.js";
import { throughputScenario } from "./scenarios/throughput.js";
import { workersScenario } from "./scenarios/workers.js";
import { keygateSut, targetSut, type SystemUnderTest } from "./sut.js";
import { startUpstream, type Upstream } from "./upstream-proc.js";

/** dist/bench.js lives one level below the repository root. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const t0 = Date.now();
const log = (message: string): void =>
  void process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}\n`);

/** Options as recorded in the JSON: header values and database passwords are credentials. */
function recordedOptions(o: BenchOptions): Record<string, unknown> {
  const redactUrl = (u?: string): string | undefined => {
    if (!u) return u;
    try {
      const url = new URL(u);
      if (url.password) url.password = "***";
      return url.toString();
    } catch {
      return "(unparseable)";
    }
  };
  return {
    ...o,
    databaseUrl: redactUrl(o.databaseUrl),
    redisUrl: redactUrl(o.redisUrl),
    targetHeaders: Object.keys(o.targetHeaders),
  };
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv, process.env);
  const startedAt = new Date();
  const wants = (s: ScenarioName): boolean => opts.scenarios.includes(s);
  const machine = await describeMachine(
    opts.target ? "n/a" : opts.databaseUrl ? "postgres" : "pglite",
    !opts.target && Boolean(opts.redisUrl),
  );

  let upstream: Upstream = await startUpstream(root, {
    port: opts.upstreamPort,
    chunks: opts.chunks,
    chunkDelayMs: opts.chunkDelayMs,
  });
  let upstreamShape = `${opts.chunks}/${opts.chunkDelayMs}`;
  const restartUpstream = async (chunks: number, chunkDelayMs: number): Promise<Upstream> => {
    if (upstreamShape === `${chunks}/${chunkDelayMs}`) return upstream;
    await upstream.proc.stop();
    // Same port: the gateway's configured upstream stays valid.
    upstream = await startUpstream(root, { port: upstream.port, chunks, chunkDelayMs });
    upstreamShape = `${chunks}/${chunkDelayMs}`;
    return upstream;
  };
  const keygateOptions = (extra: Partial<KeygateOptions> = {}): KeygateOptions => ({
    upstreamUrl: upstream.url,
    model: opts.model,
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    ...extra,
  });

  let kg: KeygateProc | undefined;
  let sut: SystemUnderTest;
  if (opts.target) {
    sut = targetSut(opts.target, opts.targetHeaders, opts.targetPid);
  } else {
    log(`starting keygate (${machine.database}${opts.redisUrl ? " + redis" : ""})`);
    kg = await startKeygate(root, keygateOptions());
    sut = keygateSut(kg, { databaseUrl: opts.databaseUrl, metrics: true });
  }
  // The reference Node proxies run only while the wrk scenarios use them. The recording one needs
  // keygate's Postgres (with its usage_records table) to record in, so not with --target.
  const references = opts.bareProxy && (wants("latency") || wants("throughput"));
  const bare = references ? await startBareProxy(root, upstream.url) : undefined;
  const recording =
    references && kg && opts.databaseUrl
      ? await startRecordingProxy(root, upstream.url, opts.databaseUrl)
      : undefined;
  const ctx: BenchContext = {
    root,
    opts,
    upstream: () => upstream,
    restartUpstream,
    sut,
    ...(bare ? { bare: { url: bare.url, pid: bare.pid } } : {}),
    ...(recording?.key ? { recording: { url: recording.url, pid: recording.pid, key: recording.key } } : {}),
    log,
  };

  const results: BenchResults = {};
  if (wants("latency")) results.latency = await latencyScenario(ctx);
  if (wants("throughput")) results.throughput = await throughputScenario(ctx);
  if (bare) {
    await bare.proc.stop();
    delete ctx.bare;
  }
  if (recording) {
    // A graceful stop writes what is queued and removes the proxy's rows from usage_records.
    await recording.proc.stop(30_000);
    delete ctx.recording;
  }
  if (wants("streaming")) results.streaming = await streamingScenario(ctx);
  if (wants("soak") && opts.soak > 0) results.soak = await soakScenario(ctx);
  if (wants("streams")) results.streams = await streamsScenario(ctx);
  await kg?.close();

  // The next keygates are started on their own, against the fast upstream again.
  await restartUpstream(opts.chunks, opts.chunkDelayMs);
  if (wants("workers") && opts.workers !== false) {
    results.workers = await workersScenario(ctx, (workers) =>
      startKeygate(root, keygateOptions({ workers })),
    );
  }
  if (opts.profile) {
    results.profile = await profileScenario(ctx, join(opts.resultsDir, "profiles"), (nodeArgs) =>
      startKeygate(root, keygateOptions({ nodeArgs })),
    );
  }
  await upstream.proc.stop();

  const rows = buildRows(results, opts.streams);
  const warnings = hostWarnings(machine, results);
  const out = [
    `## ${sut.label === "keygate" ? "keygate" : `target ${opts.target}`} vs direct upstream`,
    "",
    describeRun(machine, opts.runs, opts.durationS),
    "",
    renderTable(rows, sut.label),
    ...renderHostWarnings(warnings),
    ...(results.profile ? ["", renderProfile(results.profile)] : []),
  ].join("\n");
  process.stdout.write(out + "\n");

  await mkdir(opts.resultsDir, { recursive: true });
  const file = join(opts.resultsDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    gateway: sut.label,
    machine,
    options: recordedOptions(opts),
    targets: TARGETS,
    rows,
    hostWarnings: warnings,
    results,
  };
  await writeFile(file, JSON.stringify(json, null, 2) + "\n");
  log(`results written to ${file}`);
  return exitCode(rows, opts.strict);
}

/** Missing usage records always fail the run; missed performance targets only with --strict. */
function exitCode(rows: Row[], strict: boolean): number {
  if (rows.some((r) => r.correctness && r.verdict === "FAIL")) return 1;
  if (strict && rows.some((r) => r.verdict === "FAIL")) return 1;
  return 0;
}

process.once("SIGINT", () => {
  void stopAll()
    .then(removeDataDirs)
    .finally(() => process.exit(130));
});

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAll();
    await removeDataDirs();
    process.exit(1);
  },
);
