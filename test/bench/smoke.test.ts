// CI smoke test of the benchmark harness: a few seconds of every scenario against a real keygate
// process (embedded database), checking that the table is printed, the JSON is written, and that
// keygate recorded exactly the requests it served. Performance targets are not asserted here: a
// shared CI machine says nothing about them.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const entries = [
  "bench",
  "bench-upstream",
  "bench-bare-proxy",
  "bench-ttfb",
  "bench-load",
  "bench-hold",
  "keygate",
];
const resultsDir = mkdtempSync(join(tmpdir(), "keygate-bench-smoke-"));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  // `npm test` builds first; a direct vitest run may not have.
  if (entries.some((e) => !existsSync(join(root, "dist", `${e}.js`)))) {
    const build = await run(["scripts/build.mjs"], process.env, 60_000);
    expect(build.code, build.stderr).toBe(0);
  }
});

afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

test("bench --quick prints the table, writes the JSON, and every request keygate served is recorded", async () => {
  // The embedded database: nothing inherited may point keygate at a server.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const args = ["dist/bench.js", "--quick", "--runs", "1", "--soak", "2000", "--streams", "200"];
  // About a minute on a quiet host; hosts whose hypervisor withholds much CPU time have taken 105 s.
  const out = await run([...args, "--results-dir", resultsDir], env, 240_000);
  expect(out.code, out.stderr).toBe(0);

  // The table: a markdown header, a separator, and one row per figure.
  const lines = out.stdout.split("\n");
  const header = lines.findIndex((l) => /^\| scenario\s+\| direct\s+\| via keygate\s+\| added/.test(l));
  expect(header, out.stdout).toBeGreaterThanOrEqual(0);
  expect(lines[header + 1]).toMatch(/^\| -+ \| -+ \|/);
  for (const scenario of [
    "c=1 latency p50",
    "c=50 throughput",
    "c=50 usage records",
    "c=50 CPU per request",
    "c=50 CPU stolen by the hypervisor",
    // The reference: present only if every request through the bare proxy got a 2xx.
    "c=1 latency p99 (bare Node proxy)",
    "c=50 throughput (bare Node proxy)",
    "streaming TTFB p50",
    "soak usage records",
    "200 open streams RSS",
    "c=50 --workers 1 vs 2",
  ]) {
    expect(out.stdout).toContain(`| ${scenario} `);
  }

  const files = readdirSync(resultsDir).filter((f) => f.endsWith(".json"));
  expect(files).toHaveLength(1);
  const json = JSON.parse(readFileSync(join(resultsDir, files[0]!), "utf8")) as {
    machine: {
      cores: number;
      node: string;
      database: string;
      wrk: string;
      atRest: { seconds: number; busyShare: number; stolenShare: number };
    };
    rows: { scenario: string; verdict: string; correctness?: boolean }[];
    hostWarnings: string[];
    results: {
      throughput: {
        gateway: { requests: number };
        check: { served: number; records: number; ok: boolean };
      }[];
      soak: { load: { sent: number; ok: number }; check: { records: number; ok: boolean } };
      workers: { skipped?: string };
    };
  };
  expect(json.machine).toMatchObject({ cores: cpus().length, node: process.version, database: "pglite" });
  expect(json.machine.wrk).toMatch(/wrk/);
  // The machine's state before the run: shares of its CPU time, so between 0 and 1.
  const rest = json.machine.atRest;
  expect(rest.seconds).toBeGreaterThan(0);
  for (const share of [rest.busyShare, rest.stolenShare]) {
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  }
  expect(out.stdout).toMatch(
    /at start: load average [\d.]+, CPU [\d.]+ % busy and [\d.]+ % stolen over \d+ s/,
  );
  // Whatever the host was like, the JSON and the printed warnings agree.
  for (const warning of json.hostWarnings) expect(out.stdout).toContain(`- ${warning}`);
  expect(out.stdout.includes("Host warnings (")).toBe(json.hostWarnings.length > 0);

  // Records == requests: exact for the soak (the load client waits for every request it sends),
  // and records == keygate's served count after each wrk run, which wrk's count bounds.
  expect(json.results.soak.load.sent).toBe(2000);
  expect(json.results.soak.load.ok).toBe(2000);
  expect(json.results.soak.check.records).toBe(2000);
  for (const run of json.results.throughput) {
    expect(run.check.records).toBe(run.check.served);
    expect(run.check.served).toBeGreaterThanOrEqual(run.gateway.requests);
    expect(run.check.served).toBeLessThanOrEqual(run.gateway.requests + 50);
  }
  const correctness = json.rows.filter((r) => r.correctness);
  expect(correctness.length).toBeGreaterThanOrEqual(3);
  expect(correctness.filter((r) => r.verdict !== "pass")).toEqual([]);
  expect(json.results.workers.skipped).toMatch(/database-url/);
});
