// Assembles the final KeygateConfig from the validated file sections and the environment.
import { hostname } from "node:os";
import { defaultProviders } from "./defaults.js";
import type { EnvSettings } from "./env.js";
import type { FileConfig } from "./schema.js";
import type { KeygateConfig } from "./types.js";

export function buildConfig(file: FileConfig, env: EnvSettings): KeygateConfig {
  const { server, database, redis, logging } = file;
  return {
    server: {
      host: env.host ?? server.host,
      port: env.port ?? server.port,
      bodyLimitBytes: server.bodyLimit,
      workers: env.workers ?? server.workers,
      shutdownGraceMs: server.shutdownGraceMs,
      headersTimeoutMs: server.headersTimeoutMs,
      replicaId: server.replicaId ?? `${hostname()}-${process.pid}`,
    },
    database: { url: env.databaseUrl ?? database.url, dataDir: env.dataDir ?? database.dataDir },
    redis: {
      url: env.redisUrl ?? redis.url,
      onOutage: redis.onOutage,
      keyPrefix: redis.keyPrefix,
      commandTimeoutMs: redis.commandTimeoutMs,
    },
    secrets: { masterKey: env.masterKey, previousKeys: file.secrets.previousKeys },
    admin: { token: env.adminToken, tokens: file.admin.tokens },
    // A file without a providers section runs on the built-in demo provider.
    providers: file.providers ?? defaultProviders(),
    routing: file.routing,
    rateLimiting: file.rateLimiting,
    auth: file.auth,
    security: file.security,
    tls: file.tls,
    logging: { ...logging, level: env.logLevel ?? logging.level },
    pricing: file.pricing,
    budgets: file.budgets,
    usage: file.usage,
    capture: file.capture,
  };
}
