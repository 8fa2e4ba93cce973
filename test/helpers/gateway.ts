// Starts a real gateway for a test: in-process through startGateway (the same code `keygate serve`
// runs), on 127.0.0.1 and a free port, with its own data directory and log file.
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../server/src/config/load.js";
import { createLogger } from "../../server/src/log/logger.js";
import { startGateway, type RunningGateway } from "../../server/src/gateway.js";
import { createAdminClient, type AdminClient } from "../../sdk/index.js";

export interface TestGateway {
  url: string;
  adminToken: string;
  admin: AdminClient;
  gateway: RunningGateway;
  dataDir: string;
  logFile: string;
  /** Everything logged so far (after flushing the async log stream). */
  logs(): Promise<string>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Config file content (sections of the setup guide and keygate's own). */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  databaseUrl?: string;
  redisUrl?: string;
  /** The admin token; a fresh one by default. */
  adminToken?: string;
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "keygate-test-"));
  const logFile = join(dataDir, "gateway.log");
  const cfgFile = join(dataDir, "config.json");
  const config = { ...(opts.config ?? {}) } as Record<string, unknown>;
  const logging = {
    level: "info",
    requests: true,
    ...((config.logging as object | undefined) ?? {}),
    logFile,
  };
  config.logging = logging;
  writeFileSync(cfgFile, JSON.stringify(config));
  const adminToken = opts.adminToken ?? `kg_admin_test_${randomBytes(16).toString("hex")}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KEYGATE_DATA_DIR: dataDir,
    KEYGATE_ADMIN_TOKEN: adminToken,
    KEYGATE_PORT: "0",
    ...(opts.databaseUrl
      ? { DATABASE_URL: opts.databaseUrl, KEYGATE_MASTER_KEY: randomBytes(32).toString("base64") }
      : {}),
    ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
    ...opts.env,
  };
  const cfg = loadConfig({ file: cfgFile, env });
  const logger = createLogger(cfg.logging);
  const gateway = await startGateway(cfg, logger);
  const admin = createAdminClient({ baseUrl: gateway.url, token: adminToken });
  return {
    url: gateway.url,
    adminToken,
    admin,
    gateway,
    dataDir,
    logFile,
    async logs() {
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
    async close() {
      await gateway.close();
      logger.flush();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
