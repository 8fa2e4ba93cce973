// Public shapes of the limiter: scopes in, admissions and tickets out.
import type { BudgetWindowName, RateLimitConfig } from "../config/types.js";

export interface BudgetLimit {
  window: BudgetWindowName;
  limitUsd: number;
}

/**
 * One holder of limits. Ids must be unique within one admit:
 * "global", "client:key_abc", "key:key_abc", "instance:agent-1".
 */
export interface LimitScope {
  id: string;
  rate?: RateLimitConfig;
  budgets?: BudgetLimit[];
}

export interface AdmitInput {
  scopes: LimitScope[];
  /** Input estimate plus max output tokens. */
  estimatedTokens: number;
  /**
   * Worst-case cost of the request. Null when the price is unknown: nothing is reserved, but an
   * exhausted budget still refuses.
   */
  maxCostUsd: number | null;
  /** Clock override (ms since epoch). Absent: the store's clock (Redis TIME, or Date.now in memory). */
  now?: number;
}

export type TokenDimension = "tokensPerMinute" | "tokensPerHour" | "tokensPerDay";

export interface RequestCheck {
  scopeId: string;
  limit: number;
}

export interface TokenCheck {
  scopeId: string;
  dimension: TokenDimension;
  limit: number;
  windowMs: number;
  bucketMs: number;
}

export interface ConcurrencyCheck {
  scopeId: string;
  limit: number;
}

export interface BudgetCheck {
  scopeId: string;
  window: BudgetWindowName;
  limitMicros: number;
  /** Calendar label of the current window ("2026-11-21", "2026-W47", "2026-11", "all"). */
  label: string;
  startsAt: number;
  /** Null for the total window, which never resets. */
  endsAt: number | null;
}

/** Everything one admit checks, normalised; also what a ticket needs to settle. */
export interface Plan {
  requests: RequestCheck[];
  tokens: TokenCheck[];
  concurrency: ConcurrencyCheck[];
  budgets: BudgetCheck[];
  /** Scopes holding a budget reservation (each once, whatever its number of windows). */
  reservationScopes: string[];
  estimatedTokens: number;
  /** Null: price unknown. */
  maxCostMicros: number | null;
}

export type LimitKind = "requests" | "tokens" | "concurrency" | "budget";

/** What the store saw, before this request is counted. Arrays run parallel to the plan's. */
export interface Evaluation {
  now: number;
  requests: { used: number; resetMs: number }[];
  tokens: { used: number; resetMs: number }[];
  concurrency: { used: number }[];
  budgets: { spentMicros: number; reservedMicros: number }[];
  /** The refusing check with the longest wait, or null when all fit. retryMs null: waiting won't help. */
  failure: { kind: LimitKind; index: number; retryMs: number | null } | null;
}

/** Opaque to callers: hand it back to settle() exactly once. */
export interface Ticket {
  readonly id: string;
  readonly store: "none" | "memory" | "redis";
  readonly now: number;
  readonly plan: Plan;
  settled: boolean;
}

export type Header = [string, string];

export type Admission =
  | { ok: true; ticket: Ticket; headers: Header[] }
  | {
      ok: false;
      /** "unavailable": the shared counter store is down and rate limits fail closed (answer 503). */
      reason: LimitKind | "unavailable";
      scopeId: string;
      /**
       * Whole seconds (ceil, at least 1). Null when waiting cannot help (total budget spent,
       * request larger than the limit).
       */
      retryAfterSeconds: number | null;
      headers: Header[];
      message: string;
    };

export interface SettleInput {
  /** Null: actual count unknown (the answer reported none); the estimate is kept as used. */
  tokens: number | null;
  /** Null: actual cost unknown; the reservation is kept as spent. */
  costUsd: number | null;
}

export type StatusDimension =
  "requests_per_minute" | "tokens_per_minute" | "tokens_per_hour" | "tokens_per_day" | "max_concurrent";

export interface RateStatus {
  dimension: StatusDimension;
  limit: number;
  used: number;
  resetsAt: Date;
}

export interface BudgetStatus {
  window: BudgetWindowName;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  /** Null for the total window. */
  resetsAt: Date | null;
}

export interface LimitStatus {
  rate: RateStatus[];
  budgets: BudgetStatus[];
  /** True when the counters are shared through Redis. */
  shared: boolean;
}

export interface Limiter {
  /** Check every scope at once; on success reserve request, concurrency, token and budget slots. */
  admit(input: AdmitInput): Promise<Admission>;
  /** Fire-and-forget: swap the estimates for actuals and release the concurrency slot. Never throws. */
  settle(ticket: Ticket, actual: SettleInput): void;
  status(scope: LimitScope, now?: number): Promise<LimitStatus>;
  /** Resolves true once the counter store answers (memory: at once), false after timeoutMs. */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Spend already recorded for a scope since a window's start, in USD (the lead sums usage records). */
export type SeedSpend = (scopeId: string, window: BudgetWindowName, since: Date) => Promise<number>;

export interface CommonLimiterOptions {
  seedSpend?: SeedSpend;
  /** Called when seedSpend fails; the budget then refuses (fails closed). */
  onSeedError?: (err: unknown) => void;
  /** How long a concurrency slot is held if settle never comes (crashed replica). Default 15 min. */
  leaseMs?: number;
  /** How long a budget reservation is held if settle never comes. Default 15 min. */
  reservationTtlMs?: number;
}
