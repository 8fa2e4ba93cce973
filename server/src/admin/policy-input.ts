import { isDeepStrictEqual } from "node:util";
// Admin API policy and instance inputs → stored JSON, validated.
import type { Policy } from "../../../sdk/gen/keygate/v1/policy_pb.js";
import type { PolicyJson } from "../store/schema.js";
import { checkStringList, toBudgetsJson, toRateLimitJson } from "./validate.js";

export function toPolicyJson(field: string, p: Policy | undefined): PolicyJson {
  return {
    allowedModels: checkStringList(`${field}.allowed_models`, p?.allowedModels ?? []),
    rateLimit: toRateLimitJson(`${field}.rate_limit`, p?.rateLimit),
    budgets: toBudgetsJson(`${field}.budgets`, p?.budgets ?? []),
  };
}

/** Whether two policies differ in their limits (rate limit or budgets) or allowed models. */
export function limitsChanged(a: PolicyJson, b: PolicyJson): boolean {
  // Structural: jsonb hands keys back in its own order, so string comparison would always differ.
  return !isDeepStrictEqual(a, b);
}
