// The live side of the Admin API on a running gateway: status, the request feed, limit and budget
// status from the limiter's own counters, provider probes and circuit breakers.
import { create } from "@bufbuild/protobuf";
import { BudgetStatusSchema, RateLimitStatusSchema } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { BreakerState } from "../../../sdk/gen/keygate/v1/provider_pb.js";
import type { AdminRuntime, LimitPrincipal, StatusInfo } from "../admin/runtime.js";
import { budgetMessages, rateLimitMessage, ts } from "../admin/convert.js";
import type { UpstreamProvider } from "../facade/deps.js";
import type { Upstreams } from "../facade/upstream.js";
import { instanceScopeId, principalScopeId, type Limiter, type LimitScope } from "../limits/index.js";
import type { Breakers, BreakerStateName } from "../routing/breaker.js";
import type { LiveHub } from "../usage/live.js";
import { probeProvider } from "./probe.js";

const BREAKER_ENUM: Record<BreakerStateName, BreakerState> = {
  closed: BreakerState.CLOSED,
  open: BreakerState.OPEN,
  half_open: BreakerState.HALF_OPEN,
};

export interface RuntimeSources {
  status: () => StatusInfo | Promise<StatusInfo>;
  live: LiveHub;
  limiter: Limiter;
  breakers: Breakers;
  providers: () => UpstreamProvider[];
  upstreams: Upstreams;
}

function scopeOf(p: LimitPrincipal): LimitScope {
  if (p.kind === "key") {
    return {
      id: principalScopeId({ kind: "key", id: p.key.id }),
      rate: p.key.rate_limit,
      budgets: p.key.budgets,
    };
  }
  return {
    id: instanceScopeId(p.instance.id),
    rate: p.instance.policy.rateLimit,
    budgets: p.instance.policy.budgets,
  };
}

export function createGatewayRuntime(src: RuntimeSources): AdminRuntime {
  return {
    status: src.status,
    watch: (filter, signal) => src.live.watch(filter, signal),
    async limitStatus(p) {
      const scope = scopeOf(p);
      const s = await src.limiter.status(scope);
      const budgetMsgs = budgetMessages(scope.budgets ?? []);
      return {
        rateLimit: rateLimitMessage(scope.rate ?? {}),
        budgets: s.budgets.map((b, i) =>
          create(BudgetStatusSchema, {
            budget: budgetMsgs[i],
            spentUsd: b.spentUsd,
            reservedUsd: b.reservedUsd,
            resetsAt: ts(b.resetsAt),
          }),
        ),
        rateLimits: s.rate.map((r) =>
          create(RateLimitStatusSchema, {
            dimension: r.dimension,
            limit: BigInt(r.limit),
            used: BigInt(r.used),
            resetsAt: ts(r.resetsAt),
          }),
        ),
        shared: s.shared,
      };
    },
    async probe(ids) {
      const byId = new Map(src.providers().map((p) => [p.id, p]));
      const results = await Promise.all(
        ids.map((id) => {
          const p = byId.get(id);
          return p
            ? probeProvider(p, src.upstreams)
            : Promise.resolve({
                providerId: id,
                ok: false,
                latencyMs: 0,
                statusCode: 0,
                message: "unknown provider",
              });
        }),
      );
      return results;
    },
    breaker(providerId) {
      const v = src.breakers.view(providerId);
      return {
        state: BREAKER_ENUM[v.state],
        recentFailures: v.recentFailures,
        ...(v.openedAt !== undefined ? { openedAt: ts(new Date(v.openedAt)) } : {}),
        ...(v.retryAt !== undefined ? { retryAt: ts(new Date(v.retryAt)) } : {}),
      };
    },
  };
}
