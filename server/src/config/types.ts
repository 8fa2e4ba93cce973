// The validated, fully-defaulted configuration every module reads. The loader in
// ./load.ts turns a JSON file (sections of the setup guide plus keygate's own) into this.

export const PROVIDER_TYPES = [
  "openai",
  "openai-compatible",
  "anthropic",
  "google",
  "ollama",
  "echo",
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export interface TimeoutsConfig {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  totalMs: number;
}

export interface ProviderConfig {
  type: ProviderType;
  /** Resolved credential (after ${ENV} interpolation). Absent for ollama/echo. */
  apiKey?: string;
  /** Absent means the adapter's default. */
  baseUrl?: string;
  models: string[];
  default: boolean;
  weight: number;
  timeouts: TimeoutsConfig;
  /** Extra static headers sent upstream (e.g. OpenRouter's HTTP-Referer). */
  headers: Record<string, string>;
}

export interface RateLimitConfig {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  tokensPerHour?: number;
  tokensPerDay?: number;
  maxConcurrent?: number;
}

export type BudgetWindowName = "daily" | "weekly" | "monthly" | "total";

export interface RouteRuleConfig {
  match: { maxTokens?: number; tag?: string; model?: string; default?: boolean };
  provider: string;
  model?: string;
}

export interface AliasTargetConfig {
  provider: string;
  model: string;
  weight: number;
}

export interface RoutingConfig {
  strategy?: "fallback";
  chain: string[];
  rules: RouteRuleConfig[];
  aliases: Record<string, AliasTargetConfig[]>;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number };
  breaker: { failureThreshold: number; windowMs: number; cooldownMs: number };
}

export interface StaticTokenConfig {
  name: string;
  token: string;
  allowedModels: string[];
  rateLimit?: RateLimitConfig;
}

export type AdminRoleName = "admin" | "operator" | "viewer";

export interface AdminTokenConfig {
  name: string;
  token: string;
  role: AdminRoleName;
}

export interface PriceConfig {
  /** USD per million tokens. */
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface KeygateConfig {
  server: {
    host: string;
    port: number;
    /** Maximum request body in bytes (default 10 MiB). */
    bodyLimitBytes: number;
    /** Processes to run (node:cluster). 1 means no cluster. */
    workers: number;
    /** How long SIGTERM waits for in-flight requests before closing them. */
    shutdownGraceMs: number;
    /** How long a client may take to send a request's headers before it gets 408 (slow clients). */
    headersTimeoutMs: number;
    /** Stable id of this replica (default: hostname-pid). */
    replicaId: string;
  };
  database: {
    /** Postgres URL. Absent means embedded PGlite in dataDir. */
    url?: string;
    dataDir: string;
  };
  redis: {
    url?: string;
    /** What rate limits do while Redis is unreachable. Budgets always fail closed. */
    onOutage: "local" | "closed";
    /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
    keyPrefix: string;
    /** Longest wait for one limiter reply before Redis counts as out (see onOutage). */
    commandTimeoutMs: number;
  };
  secrets: {
    /** Base64 of 32 bytes, from KEYGATE_MASTER_KEY. Absent: embedded mode generates a key file. */
    masterKey?: string;
    /** Older master keys (id → base64), for reading values sealed before a rotation. */
    previousKeys: Record<string, string>;
  };
  admin: {
    /** From KEYGATE_ADMIN_TOKEN. Absent: generated into the data directory. */
    token?: string;
    tokens: AdminTokenConfig[];
  };
  providers: Record<string, ProviderConfig>;
  routing: RoutingConfig;
  rateLimiting: {
    global?: RateLimitConfig;
    perClient?: RateLimitConfig;
  };
  auth: {
    type: "bearer";
    tokens: StaticTokenConfig[];
  };
  security: {
    /** IPs and CIDRs (v4 and v6). Empty allows every source. */
    allowedIPs: string[];
    /**
     * Load balancers and reverse proxies (IPs and CIDRs) whose X-Forwarded-For is believed. Empty
     * trusts none: the client's address is the connection's.
     */
    trustedProxies: string[];
  };
  tls: {
    enabled: boolean;
    cert?: string;
    key?: string;
  };
  logging: {
    level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
    requests: boolean;
    /** Absent means stdout. */
    logFile?: string;
    includePrompts: boolean;
  };
  budgets: {
    /**
     * A request under a USD budget for a model with no known price: "refuse" (403) or "allow"
     * (served; its cost is recorded as unknown, and the budget counts nothing for it).
     */
    unpricedModels: "refuse" | "allow";
  };
  /** Per-model price overrides, merged over the built-in table. */
  pricing: Record<string, PriceConfig>;
  usage: {
    queueLimit: number;
    batchSize: number;
    flushIntervalMs: number;
  };
  capture: {
    retentionDays: number;
    maxBodyBytes: number;
  };
}
