// Command-line options of `npm run bench` (dist/bench.js).
import { Command, InvalidArgumentError, Option } from "commander";

export const SCENARIOS = ["latency", "throughput", "streaming", "soak", "streams", "workers"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  runs: number;
  durationS: number;
  quick: boolean;
  soak: number;
  streams: number;
  ttfbRequests: number;
  chunks: number;
  chunkDelayMs: number;
  holdChunkDelayMs: number;
  scenarios: ScenarioName[];
  databaseUrl?: string;
  redisUrl?: string;
  /** undefined: run the comparison when both URLs are given. */
  workers?: boolean;
  target?: string;
  targetHeaders: Record<string, string>;
  targetPid?: number;
  path: string;
  model: string;
  upstreamPort: number;
  profile: boolean;
  /** Measure the reference Node proxies beside the gateway in the latency and throughput scenarios. */
  bareProxy: boolean;
  resultsDir: string;
  strict: boolean;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer.`);
    return n;
  };
}

function header(v: string, acc: Record<string, string>): Record<string, string> {
  const i = v.indexOf(":");
  if (i <= 0) throw new InvalidArgumentError(`--header must look like "Name: value", got "${v}".`);
  return { ...acc, [v.slice(0, i).trim()]: v.slice(i + 1).trim() };
}

function scenarioList(v: string): ScenarioName[] {
  const names = v.split(",").map((s) => s.trim());
  for (const n of names) {
    if (!(SCENARIOS as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`unknown scenario "${n}" (known: ${SCENARIOS.join(", ")}).`);
    }
  }
  return names as ScenarioName[];
}

interface Raw {
  runs: number;
  duration?: number;
  quick: boolean;
  soak?: number;
  streams: number;
  ttfbRequests?: number;
  chunks: number;
  chunkDelayMs: number;
  holdChunkDelayMs: number;
  scenarios: ScenarioName[];
  databaseUrl?: string;
  redisUrl?: string;
  workers?: boolean;
  target?: string;
  header: Record<string, string>;
  targetPid?: number;
  path: string;
  model: string;
  upstreamPort: number;
  profile: boolean;
  bareProxy: boolean;
  resultsDir: string;
  strict: boolean;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const program = new Command("bench")
    .description("Measure keygate (or any gateway given with --target) against a bare upstream.")
    .option("--runs <n>", "runs per figure; each figure is their median", positiveInt("--runs"), 3)
    .option("--duration <s>", "seconds per wrk run (default 10, --quick 2)", positiveInt("--duration"))
    .option("--quick", "a few seconds of everything (CI smoke)", false)
    .option("--soak <n>", "requests in the soak (default 1000000, --quick 5000)", nonNegativeInt("--soak"))
    .option("--streams <n>", "concurrent streams held open", positiveInt("--streams"), 1000)
    .option(
      "--ttfb-requests <n>",
      "sequential streaming requests per run (default 200, --quick 30)",
      positiveInt("--ttfb-requests"),
    )
    .option("--chunks <n>", "chunks per streamed answer", positiveInt("--chunks"), 20)
    .option("--chunk-delay-ms <n>", "delay between streamed chunks", nonNegativeInt("--chunk-delay-ms"), 2)
    .option(
      "--hold-chunk-delay-ms <n>",
      "delay between chunks of held streams",
      positiveInt("--hold-chunk-delay-ms"),
      1000,
    )
    .option("--scenarios <list>", `comma-separated subset of ${SCENARIOS.join(",")}`, scenarioList, [
      ...SCENARIOS,
    ])
    .option(
      "--database-url <url>",
      "Postgres for keygate (env DATABASE_URL; default embedded PGlite)",
      env.DATABASE_URL,
    )
    .option("--redis-url <url>", "Redis for keygate (env REDIS_URL)", env.REDIS_URL)
    .option("--workers", "compare --workers 1 and 2 (default: when database and Redis URLs are given)")
    .option("--no-workers", "skip the workers comparison")
    .option("--target <url>", "measure this gateway instead of starting keygate")
    .option("--header <name:value>", "header sent to --target (repeatable)", header, {})
    .addOption(
      new Option("--target-pid <pid>", "process to read RSS from for --target").argParser(
        positiveInt("--target-pid"),
      ),
    )
    .option("--path <path>", "inference path on the gateway", "/v1/chat/completions")
    .option("--model <name>", "model name sent in requests", "bench-model")
    .option(
      "--upstream-port <n>",
      "port of the fake upstream (0: any free port)",
      nonNegativeInt("--upstream-port"),
      0,
    )
    .option("--profile", "also profile keygate under 50-connection load (node --cpu-prof)", false)
    .option(
      "--no-bare-proxy",
      "skip the reference Node proxies (bare, and recording) measured beside the gateway at c=1 and c=50",
    )
    .option("--results-dir <dir>", "where the JSON results go", "bench/results")
    .option("--strict", "exit 1 when a target is missed", false)
    .parse(argv);
  const raw = program.opts<Raw>();
  if (raw.target && raw.profile)
    program.error("--profile profiles keygate; it cannot be combined with --target.");
  return {
    runs: raw.runs,
    durationS: raw.duration ?? (raw.quick ? 2 : 10),
    quick: raw.quick,
    soak: raw.soak ?? (raw.quick ? 5000 : 1_000_000),
    streams: raw.streams,
    ttfbRequests: raw.ttfbRequests ?? (raw.quick ? 30 : 200),
    chunks: raw.chunks,
    chunkDelayMs: raw.chunkDelayMs,
    holdChunkDelayMs: raw.holdChunkDelayMs,
    scenarios: raw.scenarios,
    databaseUrl: raw.databaseUrl || undefined,
    redisUrl: raw.redisUrl || undefined,
    workers: raw.workers,
    target: raw.target?.replace(/\/+$/, ""),
    targetHeaders: raw.header,
    targetPid: raw.targetPid,
    path: raw.path,
    model: raw.model,
    upstreamPort: raw.upstreamPort,
    profile: raw.profile,
    bareProxy: raw.bareProxy,
    resultsDir: raw.resultsDir,
    strict: raw.strict,
  };
}
