// The limit scopes a principal's requests count against, and what a USD budget among them means
// for models keygate has no price for.
import type { Principal } from "../auth/principal.js";
import { scopesForRequest, type LimitScope } from "../limits/index.js";
import type { FacadeDeps } from "./deps.js";

/** The principal's scopes (its own, its instance's, per client, global), built once and kept on it. */
export function scopesOf(d: FacadeDeps, p: Principal): LimitScope[] {
  return (p.limitScopes ??= scopesForRequest(
    d.config.rateLimiting,
    p.kind === "key"
      ? { kind: "key", id: p.id, rate: p.rateLimit, budgets: p.budgets }
      : { kind: "token", id: p.name, rate: p.rateLimit, budgets: p.budgets },
    p.kind === "key"
      ? { id: p.instanceId, rate: p.instanceRateLimit, budgets: p.instanceBudgets }
      : undefined,
  ));
}

/**
 * Whether models with no known price are off limits to these scopes: a model without a price
 * would spend a USD budget without counting against it (unless the operator allows that).
 */
export function refusesUnpriced(d: FacadeDeps, scopes: readonly LimitScope[]): boolean {
  return (
    d.config.budgets.unpricedModels === "refuse" &&
    scopes.some((s) => s.budgets !== undefined && s.budgets.length > 0)
  );
}
