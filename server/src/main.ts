// `keygate serve`: load and validate the config, start the gateway, print where it listens (and a
// newly generated admin token, once), and shut down gracefully on SIGTERM/SIGINT.
import cluster from "node:cluster";
import { Command, InvalidArgumentError } from "commander";
import { ensureAdminToken } from "./secrets/admin-token.js";
import { loadConfig } from "./config/load.js";
import { ConfigError } from "./config/errors.js";
import { createLogger, flushLogger } from "./log/logger.js";
import { startGateway, VERSION } from "./gateway.js";

function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer.`);
    return n;
  };
}

interface ServeOptions {
  config?: string;
  port?: number;
  host?: string;
  workers?: number;
}

async function serve(opts: ServeOptions): Promise<void> {
  let config;
  try {
    config = loadConfig({
      file: opts.config,
      env: process.env,
      overrides: { port: opts.port, host: opts.host, workers: opts.workers },
      checkFiles: true,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keygate: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
  if (config.server.workers > 1 && cluster.isPrimary) return runPrimary(config);
  const logger = createLogger(config.logging);
  // A stray rejected promise (a background write, a dropped connection) must not take the gateway
  // down with every in-flight request: log it and keep serving.
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection");
  });
  let gw;
  try {
    gw = await startGateway(config, logger);
  } catch (err) {
    process.stderr.write(`keygate: ${(err as Error).message}\n`);
    flushLogger(logger);
    process.exit(1);
  }
  const lines = cluster.isWorker
    ? [`keygate worker ${process.pid} listening on ${gw.url}`]
    : [`keygate ${VERSION} listening on ${gw.url}`, `  dashboard:  ${gw.url}/ui/`];
  if (gw.adminToken.generated && !cluster.isWorker) {
    lines.push(`  admin token: ${gw.adminToken.token}`);
    lines.push(
      `  (generated and saved in ${config.database.dataDir}/admin.token; it will not be printed again)`,
    );
  }
  process.stdout.write(lines.join("\n") + "\n");

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining in-flight requests");
    gw.close().then(
      () => {
        flushLogger(logger);
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`keygate: shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // SIGHUP reloads renewed TLS certificate files (and no longer ends the process).
  process.on("SIGHUP", () => void gw.reloadTls());
}

/**
 * --workers N: N processes share the port through node:cluster. Every worker is a full replica,
 * so this needs the state replicas share: Postgres for keys and usage, Redis for limits.
 */
function runPrimary(config: Awaited<ReturnType<typeof loadConfig>>): void {
  if (!config.database.url || !config.redis.url) {
    process.stderr.write(
      "keygate: --workers > 1 needs DATABASE_URL and REDIS_URL (workers share state through them).\n",
    );
    process.exit(2);
  }
  // Create the bootstrap admin token once, before the workers race to create it.
  const token = ensureAdminToken(config);
  let printed = false;
  let stopping = false;
  for (let i = 0; i < config.server.workers; i++) cluster.fork();
  cluster.on("listening", (_worker, address) => {
    if (printed) return;
    printed = true;
    const host = address.address && address.address !== "::" ? address.address : config.server.host;
    const url = `${config.tls.enabled ? "https" : "http"}://${host}:${address.port}`;
    const lines = [
      `keygate ${VERSION} listening on ${url} (${config.server.workers} workers)`,
      `  dashboard:  ${url}/ui/`,
    ];
    if (token.generated) lines.push(`  admin token: ${token.token}`);
    process.stdout.write(lines.join("\n") + "\n");
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(
      `keygate: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    );
    cluster.fork();
  });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGHUP");
  });
}

const program = new Command("keygate")
  .description("An LLM gateway for fleets of AI agents.")
  .version(VERSION);
program
  .command("serve")
  .description("Run the gateway.")
  .option("--config <file>", "JSON config file (env KEYGATE_CONFIG)")
  .option(
    "--port <n>",
    "port to listen on (env KEYGATE_PORT, default 8484; 0 picks a free port)",
    intArg("--port"),
  )
  .option("--host <h>", "address to listen on (env KEYGATE_HOST, default 127.0.0.1)")
  .option(
    "--workers <n>",
    "processes to run (env KEYGATE_WORKERS; needs DATABASE_URL and REDIS_URL)",
    intArg("--workers"),
  )
  .action((opts: ServeOptions) => serve(opts));

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`keygate: ${err.message}\n`);
  process.exit(1);
});
