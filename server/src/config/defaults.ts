// Defaults filled into every config. Kept in one place so docs and code agree.
import type { ProviderConfig } from "./types.js";

const MiB = 1024 * 1024;

export const DEFAULTS = {
  server: {
    host: "127.0.0.1",
    port: 8484,
    bodyLimitBytes: 10 * MiB,
    workers: 1,
    shutdownGraceMs: 10_000,
    headersTimeoutMs: 60_000,
  },
  database: { dataDir: "./.keygate" },
  redis: { onOutage: "local", keyPrefix: "keygate:", commandTimeoutMs: 2_000 },
  logging: { level: "info", requests: true, includePrompts: false },
  // Small, frequent batches: serialising a large batch blocks the event loop long enough to show in p99.
  // A model with no price would spend a USD budget without counting against it.
  budgets: { unpricedModels: "refuse" },
  usage: { queueLimit: 100_000, batchSize: 200, flushIntervalMs: 25 },
  capture: { retentionDays: 7, maxBodyBytes: MiB },
  retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 },
  breaker: { failureThreshold: 5, windowMs: 30_000, cooldownMs: 15_000 },
  timeouts: { connectMs: 5_000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
  providerWeight: 1,
} as const;

/** Used when the config declares no providers: an in-process demo that needs no API key. */
export function defaultProviders(): Record<string, ProviderConfig> {
  return {
    echo: {
      type: "echo",
      models: ["echo-1"],
      default: true,
      weight: DEFAULTS.providerWeight,
      timeouts: { ...DEFAULTS.timeouts },
      headers: {},
    },
  };
}
