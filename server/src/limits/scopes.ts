// Which scopes one request is checked against: the gateway, the caller as a client, the caller's
// own limits, and its instance's policy.
import type { KeygateConfig, RateLimitConfig } from "../config/types.js";
import type { BudgetLimit, LimitScope } from "./types.js";

export interface Principal {
  /** "key" for a virtual key (id = key id), "token" for a static config token (id = its name). */
  kind: "key" | "token";
  id: string;
  rate?: RateLimitConfig;
  budgets?: BudgetLimit[];
}

export interface InstanceLimits {
  id: string;
  rate?: RateLimitConfig;
  budgets?: BudgetLimit[];
}

/** The scope id a principal's own limits are kept under ("key:key_abc", "token:ci-pipeline"). */
export function principalScopeId(p: Pick<Principal, "kind" | "id">): string {
  return `${p.kind}:${p.id}`;
}

export function instanceScopeId(instanceId: string): string {
  return `instance:${instanceId}`;
}

function hasLimits(scope: LimitScope): boolean {
  const rate = scope.rate ? Object.values(scope.rate).some((v) => v !== undefined) : false;
  return rate || (scope.budgets?.length ?? 0) > 0;
}

export function scopesForRequest(
  rateLimiting: KeygateConfig["rateLimiting"],
  principal: Principal,
  instance?: InstanceLimits,
): LimitScope[] {
  const own = principalScopeId(principal);
  const scopes: LimitScope[] = [
    { id: "global", rate: rateLimiting.global },
    // perClient applies to each caller separately, next to (not instead of) the caller's own limits.
    {
      id: principal.kind === "key" ? `client:${principal.id}` : `client:${own}`,
      rate: rateLimiting.perClient,
    },
    { id: own, rate: principal.rate, budgets: principal.budgets },
  ];
  if (instance)
    scopes.push({ id: instanceScopeId(instance.id), rate: instance.rate, budgets: instance.budgets });
  return scopes.filter(hasLimits);
}
