// A principal is whoever presented a credential on the inference façade: a virtual key or a
// static token from the config (auth.tokens). Both take the same path through authorization.
import { createAllowlist } from "../http/allowlist.js";
import type { LimitScope } from "../limits/index.js";
import type { RateLimitConfig, StaticTokenConfig, BudgetWindowName } from "../config/types.js";
import type { KeyForAuth } from "../store/keys.js";
import type { RateLimitJson, BudgetJson } from "../store/schema.js";
import { listMatcher, type Matcher } from "../util/glob.js";

export type CaptureMode = "none" | "metadata" | "full";

export interface BudgetPolicy {
  window: BudgetWindowName;
  limitUsd: number;
}

export interface Principal {
  kind: "key" | "static";
  /** Key id, or "static:<name>" for a config token. */
  id: string;
  name: string;
  /** The instance the usage is charged to; a static token is its own instance ("static:<name>"). */
  instanceId: string;
  instanceDisabled: boolean;
  /** Both the key's and the instance's lists must allow a model. */
  allowsModel: Matcher;
  /** The raw lists, for /v1/models listings. */
  allowedModelLists: string[][];
  /** Source-address check bound to the key; undefined means any source. */
  sourceAllowed?: (ip: string) => boolean;
  /** Epoch ms; undefined means no expiry. */
  expiresAt?: number;
  revoked: boolean;
  /** Set when the presented secret is the one replaced by a rotation: it works until this time (epoch ms). */
  graceUntil?: number;
  rateLimit?: RateLimitConfig;
  budgets: BudgetPolicy[];
  instanceRateLimit?: RateLimitConfig;
  instanceBudgets: BudgetPolicy[];
  tag: string;
  captureMode: CaptureMode;
  /** The limit scopes this principal is checked against; computed on first use, dropped with the principal. */
  limitScopes?: LimitScope[];
}

function rateLimitOf(json: RateLimitJson | null | undefined): RateLimitConfig | undefined {
  if (!json) return undefined;
  const out: RateLimitConfig = {};
  let any = false;
  for (const k of [
    "requestsPerMinute",
    "tokensPerMinute",
    "tokensPerHour",
    "tokensPerDay",
    "maxConcurrent",
  ] as const) {
    const v = json[k];
    if (typeof v === "number") {
      out[k] = v;
      any = true;
    }
  }
  return any ? out : undefined;
}

function budgetsOf(json: BudgetJson[] | null | undefined): BudgetPolicy[] {
  return (json ?? []).map((b) => ({ window: b.window, limitUsd: b.limitUsd }));
}

function bothAllow(lists: string[][]): Matcher {
  const matchers = lists.filter((l) => l.length > 0).map(listMatcher);
  if (matchers.length === 0) return () => true;
  if (matchers.length === 1) return matchers[0]!;
  return (name) => matchers.every((m) => m(name));
}

export function principalFromKey({ key, instance, viaPrevious }: KeyForAuth): Principal {
  const lists = [key.allowed_models ?? [], instance.policy?.allowedModels ?? []];
  return {
    kind: "key",
    id: key.id,
    name: key.display_name || key.prefix,
    instanceId: key.instance_id,
    instanceDisabled: instance.disabled,
    allowsModel: bothAllow(lists),
    allowedModelLists: lists,
    sourceAllowed:
      key.source_cidrs && key.source_cidrs.length > 0 ? createAllowlist(key.source_cidrs) : undefined,
    expiresAt: key.expires_at ? new Date(key.expires_at).getTime() : undefined,
    revoked: key.revoked_at !== null,
    graceUntil:
      viaPrevious && key.previous_expires_at ? new Date(key.previous_expires_at).getTime() : undefined,
    rateLimit: rateLimitOf(key.rate_limit),
    budgets: budgetsOf(key.budgets),
    instanceRateLimit: rateLimitOf(instance.policy?.rateLimit),
    instanceBudgets: budgetsOf(instance.policy?.budgets),
    tag: key.tag || instance.tag || "",
    captureMode: instance.capture_mode ?? "none",
  };
}

export function principalFromStatic(token: StaticTokenConfig): Principal {
  const lists = [token.allowedModels];
  return {
    kind: "static",
    id: `static:${token.name}`,
    name: token.name,
    instanceId: `static:${token.name}`,
    instanceDisabled: false,
    allowsModel: bothAllow(lists),
    allowedModelLists: lists,
    revoked: false,
    rateLimit: token.rateLimit,
    budgets: [],
    instanceBudgets: [],
    tag: "",
    captureMode: "none",
  };
}

export type Refusal = { kind: "unauthorized" | "forbidden"; message: string };

/** Checks that depend on time and source, evaluated on every request (never cached as a verdict). */
export function checkPrincipal(p: Principal, clientIp: string, now: number): Refusal | undefined {
  if (p.revoked) return { kind: "unauthorized", message: "This API key has been revoked." };
  if (p.graceUntil !== undefined && now >= p.graceUntil)
    return { kind: "unauthorized", message: "This API key was rotated and its grace period has ended." };
  if (p.expiresAt !== undefined && now >= p.expiresAt)
    return { kind: "unauthorized", message: "This API key has expired." };
  if (p.instanceDisabled) return { kind: "forbidden", message: "This instance is disabled." };
  if (p.sourceAllowed && !p.sourceAllowed(clientIp))
    return { kind: "forbidden", message: "This API key may not be used from this address." };
  return undefined;
}
