// zod schemas for each section of the config file, as written (after ${ENV} interpolation).
// Objects are strict so a misspelt key is reported instead of silently ignored. Leaf defaults are
// filled here; ./build.ts assembles the final KeygateConfig.
import { z } from "zod";
import { isValidAllowEntry } from "../http/allowlist.js";
import { DEFAULTS } from "./defaults.js";
import { INTEGER } from "./issues.js";
import { parseSize } from "./size.js";
import { PROVIDER_TYPES, type AdminRoleName, type KeygateConfig } from "./types.js";
import {
  HEADER_NAME,
  HTTP_SCHEMES,
  POSTGRES_SCHEMES,
  REDIS_SCHEMES,
  hasScheme,
  isHeaderValue,
  isMasterKey,
} from "./values.js";

export const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
  "silent",
] as const satisfies readonly KeygateConfig["logging"]["level"][];
export const ADMIN_ROLES = ["admin", "operator", "viewer"] as const satisfies readonly AdminRoleName[];

const text = z.string().min(1);
const int = () => z.int({ error: INTEGER });
const positiveInt = int().positive();
const nonNegativeInt = int().nonnegative();
const port = int().min(0).max(65535);
const workers = int().min(1).max(1024);
const weight = z.number().positive();
const price = z.number().nonnegative();
const withScheme = (schemes: readonly string[], error: string) =>
  text.refine((v) => hasScheme(v, schemes), { error });
const httpUrl = withScheme(HTTP_SCHEMES, "must be an http:// or https:// URL");
export const postgresUrl = withScheme(POSTGRES_SCHEMES, "must be a postgres:// or postgresql:// URL");
export const redisUrl = withScheme(REDIS_SCHEMES, "must be a redis:// or rediss:// URL");
export const masterKey = z.string().refine(isMasterKey, { error: "must be base64 of 32 bytes" });
export const logLevel = z.enum(LOG_LEVELS);
export { port, workers, text };

const SIZE_ERROR = 'must be a size such as "10mb" or a whole number of bytes';
const size = z.unknown().transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes !== undefined) return bytes;
  ctx.issues.push({ code: "custom", message: SIZE_ERROR, input: value });
  return z.NEVER;
});

const rateLimit = z.strictObject({
  requestsPerMinute: positiveInt.optional(),
  tokensPerMinute: positiveInt.optional(),
  tokensPerHour: positiveInt.optional(),
  tokensPerDay: positiveInt.optional(),
  maxConcurrent: positiveInt.optional(),
});

const timeouts = z
  .strictObject({
    connectMs: positiveInt.default(DEFAULTS.timeouts.connectMs),
    firstByteMs: positiveInt.default(DEFAULTS.timeouts.firstByteMs),
    idleMs: positiveInt.default(DEFAULTS.timeouts.idleMs),
    totalMs: positiveInt.default(DEFAULTS.timeouts.totalMs),
  })
  .prefault({});

const provider = z.strictObject({
  type: z.enum(PROVIDER_TYPES),
  apiKey: text.optional(),
  baseUrl: httpUrl.optional(),
  models: z.array(text).default(() => []),
  default: z.boolean().default(false),
  weight: weight.default(DEFAULTS.providerWeight),
  timeouts,
  headers: z
    .record(
      z.string().regex(HEADER_NAME, { error: "is not a valid header name" }),
      z.string().refine(isHeaderValue, { error: "must not contain line breaks" }),
    )
    .default(() => ({})),
});

const routeRule = z.strictObject({
  match: z
    .strictObject({
      maxTokens: positiveInt.optional(),
      tag: text.optional(),
      model: text.optional(),
      default: z.boolean().optional(),
    })
    .refine((m) => Object.values(m).some((v) => v !== undefined), {
      error: "must set at least one of maxTokens, tag, model or default",
    }),
  provider: text,
  model: text.optional(),
});

const aliasTarget = z.strictObject({
  provider: text,
  model: text,
  weight: weight.default(DEFAULTS.providerWeight),
});

const routing = z
  .strictObject({
    strategy: z.literal("fallback").optional(),
    chain: z.array(text).default(() => []),
    rules: z.array(routeRule).default(() => []),
    aliases: z.record(text, z.array(aliasTarget).min(1)).default(() => ({})),
    retry: z
      .strictObject({
        maxAttempts: positiveInt.default(DEFAULTS.retry.maxAttempts),
        baseDelayMs: nonNegativeInt.default(DEFAULTS.retry.baseDelayMs),
        maxDelayMs: nonNegativeInt.default(DEFAULTS.retry.maxDelayMs),
        maxRetryAfterMs: nonNegativeInt.default(DEFAULTS.retry.maxRetryAfterMs),
      })
      .prefault({}),
    breaker: z
      .strictObject({
        failureThreshold: positiveInt.default(DEFAULTS.breaker.failureThreshold),
        windowMs: positiveInt.default(DEFAULTS.breaker.windowMs),
        cooldownMs: positiveInt.default(DEFAULTS.breaker.cooldownMs),
      })
      .prefault({}),
  })
  .prefault({});

const named = { name: text, token: text };

/** One schema per top-level section; any other top-level key is an unknown section. */
export const SECTIONS = {
  providers: z.record(z.string(), provider).optional(),
  routing,
  rateLimiting: z
    .strictObject({ global: rateLimit.optional(), perClient: rateLimit.optional() })
    .prefault({}),
  auth: z
    .strictObject({
      type: z.literal("bearer").default("bearer"),
      tokens: z
        .array(
          z.strictObject({
            ...named,
            allowedModels: z.array(text).default(() => []),
            rateLimit: rateLimit.optional(),
          }),
        )
        .default(() => []),
    })
    .prefault({}),
  security: z
    .strictObject({
      allowedIPs: z
        .array(z.string().refine(isValidAllowEntry, { error: "not an IP address or CIDR range" }))
        .default(() => []),
      trustedProxies: z
        .array(z.string().refine(isValidAllowEntry, { error: "not an IP address or CIDR range" }))
        .default(() => []),
    })
    .prefault({}),
  tls: z
    .strictObject({ enabled: z.boolean().default(false), cert: text.optional(), key: text.optional() })
    .prefault({}),
  logging: z
    .strictObject({
      level: logLevel.default(DEFAULTS.logging.level),
      requests: z.boolean().default(DEFAULTS.logging.requests),
      logFile: text.optional(),
      includePrompts: z.boolean().default(DEFAULTS.logging.includePrompts),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: text.default(DEFAULTS.server.host),
      port: port.default(DEFAULTS.server.port),
      bodyLimit: size.default(DEFAULTS.server.bodyLimitBytes),
      workers: workers.default(DEFAULTS.server.workers),
      shutdownGraceMs: nonNegativeInt.default(DEFAULTS.server.shutdownGraceMs),
      headersTimeoutMs: positiveInt.default(DEFAULTS.server.headersTimeoutMs),
      replicaId: text.optional(),
    })
    .prefault({}),
  database: z
    .strictObject({ url: postgresUrl.optional(), dataDir: text.default(DEFAULTS.database.dataDir) })
    .prefault({}),
  redis: z
    .strictObject({
      url: redisUrl.optional(),
      onOutage: z.enum(["local", "closed"]).default("local"),
      keyPrefix: z.string().min(1).max(64).default("keygate:"),
      commandTimeoutMs: positiveInt.default(DEFAULTS.redis.commandTimeoutMs),
    })
    .prefault({}),
  secrets: z.strictObject({ previousKeys: z.record(text, masterKey).default(() => ({})) }).prefault({}),
  admin: z
    .strictObject({
      tokens: z.array(z.strictObject({ ...named, role: z.enum(ADMIN_ROLES) })).default(() => []),
    })
    .prefault({}),
  pricing: z
    .record(
      text,
      z.strictObject({
        input: price,
        output: price,
        cacheRead: price.optional(),
        cacheWrite: price.optional(),
      }),
    )
    .default(() => ({})),
  budgets: z
    .strictObject({ unpricedModels: z.enum(["refuse", "allow"]).default(DEFAULTS.budgets.unpricedModels) })
    .prefault({}),
  usage: z
    .strictObject({
      queueLimit: positiveInt.default(DEFAULTS.usage.queueLimit),
      batchSize: positiveInt.default(DEFAULTS.usage.batchSize),
      flushIntervalMs: positiveInt.default(DEFAULTS.usage.flushIntervalMs),
    })
    .prefault({}),
  capture: z
    .strictObject({
      retentionDays: nonNegativeInt.default(DEFAULTS.capture.retentionDays),
      maxBodyBytes: size.default(DEFAULTS.capture.maxBodyBytes),
    })
    .prefault({}),
};

export type SectionName = keyof typeof SECTIONS;
export type FileConfig = { [K in SectionName]: z.output<(typeof SECTIONS)[K]> };
