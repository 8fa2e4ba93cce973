// End-to-end harness for gwctl: builds the real binaries, spawns `keygate serve --port 0` on
// 127.0.0.1 with its own data directory, and runs `node cli/bin/gwctl.js ...` as a child process.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { ensureBuilt } from "../helpers/replicas.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GWCTL = join(ROOT, "cli/bin/gwctl.js");
const KEYGATE = join(ROOT, "server/bin/keygate.js");

/**
 * Makes dist/ current for this suite: the gateway through the shared, lock-serialised
 * `ensureBuilt()` (scripts/build.mjs when stale), then gwctl, rebuilt every run so the binary
 * under test always matches cli/src. The gwctl bundle is written whole and renamed into place,
 * so a concurrent reader never sees half a file.
 */
export async function buildBinaries(): Promise<void> {
  await ensureBuilt();
  const result = await build({
    platform: "node",
    format: "esm",
    target: "node20",
    bundle: true,
    packages: "external",
    sourcemap: true,
    logLevel: "silent",
    write: false,
    banner: {
      js: "import { createRequire as __kgCreateRequire } from 'node:module'; const require = __kgCreateRequire(import.meta.url);",
    },
    entryPoints: { gwctl: join(ROOT, "cli/src/main.ts") },
    outdir: join(ROOT, "dist"),
  });
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

export interface SpawnedGateway {
  url: string;
  token: string;
  dataDir: string;
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => child.once("exit", (code) => res(code)));
}

/** Starts `node server/bin/keygate.js serve --port 0` and resolves once it prints where it listens. */
export async function spawnGateway(): Promise<SpawnedGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "keygate-cli-"));
  const token = `kg_admin_cli_${randomBytes(16).toString("hex")}`;
  const child = spawn(process.execPath, [KEYGATE, "serve", "--port", "0", "--host", "127.0.0.1"], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, KEYGATE_DATA_DIR: dataDir, KEYGATE_ADMIN_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const reap = (): void => void child.kill("SIGKILL");
  process.once("exit", reap);
  child.once("exit", () => process.off("exit", reap));
  let out = "";
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((res, rej) => {
    // A gateway that never says where it listens is killed, not left behind.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rej(new Error(`keygate did not print "listening on" within 120 s:\n${out}\n${err}`));
    }, 120_000);
    child.once("exit", () => clearTimeout(timer));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.once("exit", (code) =>
      rej(new Error(`keygate exited with ${code} before listening:\n${out}\n${err}`)),
    );
    child.once("error", rej);
  });
  return {
    url,
    token,
    dataDir,
    async close() {
      const done = exited(child);
      child.kill("SIGTERM");
      await done;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment; KEYGATE_URL and KEYGATE_ADMIN_TOKEN come from the gateway unless overridden. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is empty. */
  input?: string;
}

let cwd: string | undefined;

/** A directory without `.keygate/`, so gwctl never picks up a stray admin.token. */
function cleanCwd(): string {
  cwd ??= mkdtempSync(join(tmpdir(), "gwctl-cwd-"));
  return cwd;
}

export function cliEnv(gw: SpawnedGateway | undefined, extra: CliOptions["env"] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  if (gw) {
    env.KEYGATE_URL = gw.url;
    env.KEYGATE_ADMIN_TOKEN = gw.token;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Spawns gwctl without waiting for it (for --follow). */
export function startGwctl(
  gw: SpawnedGateway | undefined,
  args: string[],
  opts: CliOptions = {},
): ChildProcess {
  return spawn(process.execPath, [GWCTL, ...args], {
    cwd: cleanCwd(),
    env: cliEnv(gw, opts.env),
    stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
}

/** Runs gwctl to completion. */
export async function gwctl(
  gw: SpawnedGateway | undefined,
  args: string[],
  opts: CliOptions = {},
): Promise<CliResult> {
  const child = startGwctl(gw, args, opts);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  const code = await new Promise<number | null>((res, rej) => {
    child.once("close", (c) => res(c));
    child.once("error", rej);
  });
  return { code, stdout, stderr };
}

/** Runs gwctl with `--output json`, requires success, and parses stdout. */
export async function gwctlJson(gw: SpawnedGateway, args: string[], opts: CliOptions = {}): Promise<unknown> {
  const r = await gwctl(gw, [...args, "--output", "json"], opts);
  if (r.code !== 0) throw new Error(`gwctl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

export function removeCleanCwd(): void {
  if (cwd) rmSync(cwd, { recursive: true, force: true });
  cwd = undefined;
}
