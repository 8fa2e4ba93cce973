// Turns the scopes of one request into a flat, deduplicated list of checks.
import type { RateLimitConfig } from "../config/types.js";
import type { AdmitInput, BudgetCheck, LimitScope, Plan, TokenDimension } from "./types.js";
import { TOKEN_WINDOWS, budgetWindow } from "./windows.js";

const TOKEN_DIMENSIONS: TokenDimension[] = ["tokensPerMinute", "tokensPerHour", "tokensPerDay"];

/** USD as integer micro-dollars, so sums and comparisons are exact. Reservations round up. */
export function toMicros(usd: number, rounding: "up" | "nearest"): number {
  // Round away float noise first (0.07 * 1e6 = 70000.00000000001).
  const micros = Math.round(usd * 1e9) / 1e3;
  return Math.max(0, rounding === "up" ? Math.ceil(micros) : Math.round(micros));
}

export function fromMicros(micros: number): number {
  return micros / 1e6;
}

/** A usable limit, or undefined for "no limit at this level". 0 is a real limit that refuses everything. */
function limitOf(rate: RateLimitConfig | undefined, field: keyof RateLimitConfig): number | undefined {
  const v = rate?.[field];
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
}

/** Keep the lowest limit when the same scope and dimension appear twice. */
function upsert<T extends { limit: number }>(map: Map<string, T>, key: string, check: T): void {
  const prev = map.get(key);
  if (!prev || check.limit < prev.limit) map.set(key, check);
}

/** Token counts as whole, non-negative numbers (a missing or broken count is 0). */
export function wholeTokens(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.ceil(n)) : 0;
}

export function buildPlan(input: AdmitInput, now: number): Plan {
  return planFor(input.scopes, wholeTokens(input.estimatedTokens), input.maxCostUsd, now);
}

export function planFor(
  scopes: readonly LimitScope[],
  estimatedTokens: number,
  maxCostUsd: number | null,
  now: number,
): Plan {
  const requests = new Map<string, Plan["requests"][number]>();
  const tokens = new Map<string, Plan["tokens"][number]>();
  const concurrency = new Map<string, Plan["concurrency"][number]>();
  const budgets = new Map<string, BudgetCheck & { limit: number }>();
  for (const scope of scopes) {
    const rpm = limitOf(scope.rate, "requestsPerMinute");
    if (rpm !== undefined) upsert(requests, scope.id, { scopeId: scope.id, limit: rpm });
    for (const dimension of TOKEN_DIMENSIONS) {
      const limit = limitOf(scope.rate, dimension);
      if (limit === undefined) continue;
      upsert(tokens, `${scope.id}\0${dimension}`, {
        scopeId: scope.id,
        dimension,
        limit,
        ...TOKEN_WINDOWS[dimension],
      });
    }
    const conc = limitOf(scope.rate, "maxConcurrent");
    if (conc !== undefined) upsert(concurrency, scope.id, { scopeId: scope.id, limit: conc });
    for (const b of scope.budgets ?? []) {
      if (!Number.isFinite(b.limitUsd) || b.limitUsd < 0) continue;
      const limitMicros = toMicros(b.limitUsd, "nearest");
      const w = budgetWindow(b.window, now);
      upsert(budgets, `${scope.id}\0${b.window}`, {
        scopeId: scope.id,
        window: b.window,
        limitMicros,
        limit: limitMicros,
        label: w.label,
        startsAt: w.startsAt,
        endsAt: w.endsAt,
      });
    }
  }
  const budgetChecks = [...budgets.values()].map(({ limit: _limit, ...check }) => check);
  return {
    requests: [...requests.values()],
    tokens: [...tokens.values()],
    concurrency: [...concurrency.values()],
    budgets: budgetChecks,
    reservationScopes: [...new Set(budgetChecks.map((b) => b.scopeId))],
    estimatedTokens,
    maxCostMicros: maxCostUsd === null || !Number.isFinite(maxCostUsd) ? null : toMicros(maxCostUsd, "up"),
  };
}

export function planIsEmpty(plan: Plan): boolean {
  return (
    plan.requests.length === 0 &&
    plan.tokens.length === 0 &&
    plan.concurrency.length === 0 &&
    plan.budgets.length === 0
  );
}
