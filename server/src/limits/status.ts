// Shapes an evaluation of one scope (nothing reserved) into what GetLimitStatus reports.
import { fromMicros } from "./plan.js";
import type { Evaluation, LimitStatus, Plan, StatusDimension, TokenDimension } from "./types.js";

const TOKEN_STATUS: Record<TokenDimension, StatusDimension> = {
  tokensPerMinute: "tokens_per_minute",
  tokensPerHour: "tokens_per_hour",
  tokensPerDay: "tokens_per_day",
};

export function toStatus(plan: Plan, ev: Evaluation, shared: boolean): LimitStatus {
  const at = (ms: number): Date => new Date(ev.now + Math.max(0, ms));
  const rate: LimitStatus["rate"] = [];
  plan.requests.forEach((check, i) => {
    const seen = ev.requests[i];
    rate.push({
      dimension: "requests_per_minute",
      limit: check.limit,
      used: seen?.used ?? 0,
      resetsAt: at(seen?.resetMs ?? 0),
    });
  });
  plan.tokens.forEach((check, i) => {
    const seen = ev.tokens[i];
    rate.push({
      dimension: TOKEN_STATUS[check.dimension],
      limit: check.limit,
      used: seen?.used ?? 0,
      resetsAt: at(seen?.resetMs ?? 0),
    });
  });
  plan.concurrency.forEach((check, i) => {
    rate.push({
      dimension: "max_concurrent",
      limit: check.limit,
      used: ev.concurrency[i]?.used ?? 0,
      resetsAt: at(0),
    });
  });
  const budgets = plan.budgets.map((check, i) => ({
    window: check.window,
    limitUsd: fromMicros(check.limitMicros),
    spentUsd: fromMicros(ev.budgets[i]?.spentMicros ?? 0),
    reservedUsd: fromMicros(ev.budgets[i]?.reservedMicros ?? 0),
    resetsAt: check.endsAt === null ? null : new Date(check.endsAt),
  }));
  return { rate, budgets, shared };
}
