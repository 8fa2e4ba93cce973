// Starts `keygate serve` in its own process with a generated config that has one provider: the
// bench upstream. Each start gets its own data directory and admin token.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdminClient, type AdminClient } from "../sdk/client.js";
import { freshConnectionFetch } from "./fresh-fetch.js";
import { startProc, type Proc } from "./procs.js";
import { UPSTREAM_KEY } from "./upstream-proc.js";

export interface KeygateOptions {
  upstreamUrl: string;
  model: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Passed as --workers when set. */
  workers?: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

export interface KeygateProc {
  url: string;
  pid: number;
  /** Processes serving the port (--workers). */
  workers: number;
  /** With several workers, every call goes over a new connection so calls reach each worker in turn. */
  admin: AdminClient;
  proc: Proc;
  close(): Promise<void>;
}

/** The node flags keygate ships with: the shebang of server/bin/keygate.js, and `npm start`. */
export const KEYGATE_NODE_FLAGS = ["--max-semi-space-size=8"];

/** Data directories of keygates still running, removed by removeDataDirs() if the run fails. */
const dataDirs = new Set<string>();

export async function removeDataDirs(): Promise<void> {
  await Promise.all([...dataDirs].map((d) => rm(d, { recursive: true, force: true })));
  dataDirs.clear();
}

export function benchConfig(upstreamUrl: string, model: string): Record<string, unknown> {
  return {
    providers: {
      bench: {
        type: "openai-compatible",
        baseUrl: `${upstreamUrl}/v1`,
        apiKey: UPSTREAM_KEY,
        models: [model],
      },
    },
    // Request logging is an operator's choice; the benchmark measures the gateway without it.
    logging: { requests: false },
  };
}

export async function startKeygate(root: string, o: KeygateOptions): Promise<KeygateProc> {
  const dataDir = await mkdtemp(join(tmpdir(), "keygate-bench-"));
  dataDirs.add(dataDir);
  const configFile = join(dataDir, "bench-config.json");
  await writeFile(configFile, JSON.stringify(benchConfig(o.upstreamUrl, o.model), null, 2));
  const adminToken = `kg_admin_bench_${randomBytes(24).toString("base64url")}`;
  // A clean environment: nothing inherited may switch the database or add config behind our back.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KEYGATE_DATA_DIR: dataDir,
    KEYGATE_ADMIN_TOKEN: adminToken,
    ...(o.databaseUrl
      ? { DATABASE_URL: o.databaseUrl, KEYGATE_MASTER_KEY: randomBytes(32).toString("base64") }
      : {}),
    ...(o.redisUrl ? { REDIS_URL: o.redisUrl } : {}),
  };
  const proc = startProc({
    name: "keygate",
    command: process.execPath,
    args: [
      // As the keygate command and `npm start` run it (see server/bin/keygate.js).
      ...KEYGATE_NODE_FLAGS,
      ...(o.nodeArgs ?? []),
      join(root, "server", "bin", "keygate.js"),
      "serve",
      "--port",
      "0",
      "--config",
      configFile,
      ...(o.workers ? ["--workers", String(o.workers)] : []),
    ],
    env,
    cwd: root,
  });
  let url: string;
  try {
    url = (await proc.waitForLine(/listening on (https?:\/\/\S+)/, 90_000))[1]!;
  } catch (err) {
    await proc.stop(2000);
    await rm(dataDir, { recursive: true, force: true });
    dataDirs.delete(dataDir);
    throw err;
  }
  return {
    url,
    pid: proc.pid,
    workers: o.workers ?? 1,
    admin: createAdminClient({
      baseUrl: url,
      token: adminToken,
      ...((o.workers ?? 1) > 1 ? { fetch: freshConnectionFetch } : {}),
    }),
    proc,
    async close() {
      // A graceful stop flushes the usage queue and lets --cpu-prof write its profile.
      const status = await proc.stop(30_000);
      await rm(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
      if (status.code !== 0)
        throw new Error(`keygate exited with ${status.signal ?? status.code}\n${proc.tail()}`);
    },
  };
}
