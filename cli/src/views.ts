// Human-readable views of the main resources, shared by several commands.
import {
  AdminRoleSchema,
  BreakerStateSchema,
  BudgetWindow,
  CaptureModeSchema,
  KeyState,
  ProviderSourceSchema,
  type Budget,
  type Instance,
  type Provider,
  type RateLimit,
  type VirtualKey,
  type AdminRole,
} from "../../sdk/index.js";
import { enumWord, labels, list, NONE, text, time, usd, yesNo } from "./format.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";

const WINDOW_WORD: Record<BudgetWindow, string> = {
  [BudgetWindow.UNSPECIFIED]: "?",
  [BudgetWindow.DAILY]: "day",
  [BudgetWindow.WEEKLY]: "week",
  [BudgetWindow.MONTHLY]: "month",
  [BudgetWindow.TOTAL]: "total",
};

export function windowWord(window: BudgetWindow): string {
  return WINDOW_WORD[window] ?? String(window);
}

export const WINDOW_OF: Record<string, BudgetWindow> = {
  day: BudgetWindow.DAILY,
  week: BudgetWindow.WEEKLY,
  month: BudgetWindow.MONTHLY,
  total: BudgetWindow.TOTAL,
};

/** The rate-limit fields, in display order, with the flag that sets each. */
export const RATE_FIELDS = [
  { field: "requestsPerMinute", name: "requests_per_minute", short: "rpm" },
  { field: "tokensPerMinute", name: "tokens_per_minute", short: "tpm" },
  { field: "tokensPerHour", name: "tokens_per_hour", short: "tokens/hour" },
  { field: "tokensPerDay", name: "tokens_per_day", short: "tokens/day" },
  { field: "maxConcurrent", name: "max_concurrent", short: "concurrency" },
] as const;

export function rateLimitText(rl: RateLimit | undefined): string {
  if (!rl) return NONE;
  const parts = RATE_FIELDS.flatMap(({ field, short }) => {
    const v = rl[field];
    return v === undefined ? [] : [`${short}=${v}`];
  });
  return parts.length === 0 ? NONE : parts.join(" ");
}

export function budgetsText(budgets: readonly Budget[]): string {
  return budgets.length === 0
    ? NONE
    : budgets.map((b) => `${usd(b.limitUsd)} USD/${windowWord(b.window)}`).join(", ");
}

export function instanceDetails(i: Instance): [string, string][] {
  return [
    ["id", i.id],
    ["name", text(i.displayName)],
    ["state", i.disabled ? "disabled" : "enabled"],
    ["labels", labels(i.labels)],
    ["tag", text(i.tag)],
    ["capture", enumWord(CaptureModeSchema, i.captureMode)],
    ["allowed models", list(i.policy?.allowedModels ?? [])],
    ["rate limits", rateLimitText(i.policy?.rateLimit)],
    ["budgets", budgetsText(i.policy?.budgets ?? [])],
    ["created", time(i.createTime)],
    ["updated", time(i.updateTime)],
  ];
}

/** active / revoked / expired, from the server's state or, if it left it unset, the timestamps. */
export function keyState(k: VirtualKey, now: Date = new Date()): string {
  switch (k.state) {
    case KeyState.ACTIVE:
      return "active";
    case KeyState.REVOKED:
      return "revoked";
    case KeyState.EXPIRED:
      return "expired";
    default:
      if (k.revokedAt) return "revoked";
      if (k.expiresAt && timestampDate(k.expiresAt) <= now) return "expired";
      return "active";
  }
}

export function keyDetails(k: VirtualKey): [string, string][] {
  const rows: [string, string][] = [
    ["id", k.id],
    ["instance", k.instanceId],
    ["name", text(k.displayName)],
    ["prefix", text(k.prefix)],
    ["state", keyState(k)],
    ["allowed models", list(k.allowedModels)],
    ["source cidrs", list(k.sourceCidrs)],
    ["tag", text(k.tag)],
    ["rate limits", rateLimitText(k.rateLimit)],
    ["budgets", budgetsText(k.budgets)],
    ["created", time(k.createTime)],
    ["expires", time(k.expiresAt)],
    ["revoked", time(k.revokedAt)],
    ["last used", time(k.lastUsedAt)],
  ];
  if (k.previousSecretExpiresAt) rows.push(["previous secret until", time(k.previousSecretExpiresAt)]);
  return rows;
}

export function breakerText(p: Provider): string {
  const b = p.breaker;
  if (!b) return NONE;
  const state = enumWord(BreakerStateSchema, b.state);
  return b.recentFailures > 0 ? `${state} (${b.recentFailures} failures)` : state;
}

export function providerDetails(p: Provider): [string, string][] {
  const t = p.timeouts;
  const timeouts = t
    ? `connect=${t.connectMs}ms first-byte=${t.firstByteMs}ms idle=${t.idleMs}ms total=${t.totalMs}ms`
    : NONE;
  return [
    ["id", p.id],
    ["type", p.type],
    ["source", enumWord(ProviderSourceSchema, p.source)],
    ["base url", text(p.baseUrl)],
    ["models", list(p.models)],
    ["default", yesNo(p.default)],
    ["weight", String(p.weight)],
    ["credential", text(p.credentialFingerprint)],
    ["timeouts", timeouts],
    ["breaker", breakerText(p)],
    ["breaker retry at", time(p.breaker?.retryAt)],
    ["created", time(p.createTime)],
    ["updated", time(p.updateTime)],
  ];
}

export function roleWord(role: AdminRole): string {
  return enumWord(AdminRoleSchema, role);
}
