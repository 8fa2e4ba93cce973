// Input validation for the Admin API. Each check throws InvalidArgument naming the field.
import ipaddr from "ipaddr.js";
import {
  BudgetWindow,
  CaptureMode,
  type Budget,
  type RateLimit,
} from "../../../sdk/gen/keygate/v1/policy_pb.js";
import { PROVIDER_TYPES, type ProviderType } from "../config/types.js";
import type { BudgetJson, InstanceRow, RateLimitJson } from "../store/schema.js";
import { invalid } from "./errors.js";

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_TEXT = 256;
const MAX_LIST = 256;

export function checkId(field: string, id: string): string {
  if (!ID_PATTERN.test(id)) throw invalid(field, `must match ${ID_PATTERN.source}`);
  return id;
}

export function checkText(field: string, v: string, max = MAX_TEXT): string {
  if (v.length > max) throw invalid(field, `must be at most ${max} characters`);
  // Control characters would corrupt log lines and tables.
  if (/\p{Cc}/u.test(v)) throw invalid(field, "must not contain control characters");
  return v;
}

export function checkRequired(field: string, v: string): string {
  if (!v) throw invalid(field, "is required");
  return v;
}

export function checkStringList(field: string, list: readonly string[]): string[] {
  if (list.length > MAX_LIST) throw invalid(field, `must have at most ${MAX_LIST} entries`);
  return list.map((v, i) => {
    if (!v.trim()) throw invalid(`${field}[${i}]`, "must not be empty");
    return checkText(`${field}[${i}]`, v.trim());
  });
}

export function checkLabels(field: string, labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > 64) throw invalid(field, "must have at most 64 entries");
  for (const [k, v] of entries) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/.test(k)) {
      throw invalid(`${field}[${JSON.stringify(k)}]`, "key must be 1-63 of [A-Za-z0-9._/-]");
    }
    checkText(`${field}[${JSON.stringify(k)}]`, v);
  }
  return { ...labels };
}

/** Accepts CIDRs and single addresses (v4 and v6). */
export function checkCidrs(field: string, list: readonly string[]): string[] {
  if (list.length > MAX_LIST) throw invalid(field, `must have at most ${MAX_LIST} entries`);
  return list.map((raw, i) => {
    const v = raw.trim();
    const ok = v.includes("/") ? safe(() => ipaddr.parseCIDR(v)) : ipaddr.isValid(v);
    if (!ok) throw invalid(`${field}[${i}]`, "not a CIDR");
    return v;
  });
}

function safe(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

const RATE_FIELDS = [
  ["requestsPerMinute", "requests_per_minute"],
  ["tokensPerMinute", "tokens_per_minute"],
  ["tokensPerHour", "tokens_per_hour"],
  ["tokensPerDay", "tokens_per_day"],
  ["maxConcurrent", "max_concurrent"],
] as const;

export function toRateLimitJson(field: string, rl: RateLimit | undefined): RateLimitJson {
  const out: RateLimitJson = {};
  if (!rl) return out;
  for (const [key, name] of RATE_FIELDS) {
    const v = rl[key];
    if (v === undefined) continue;
    if (v <= 0n || v > BigInt(Number.MAX_SAFE_INTEGER))
      throw invalid(`${field}.${name}`, "must be a positive integer");
    out[key] = Number(v);
  }
  return out;
}

const WINDOWS: Partial<Record<BudgetWindow, BudgetJson["window"]>> = {
  [BudgetWindow.DAILY]: "daily",
  [BudgetWindow.WEEKLY]: "weekly",
  [BudgetWindow.MONTHLY]: "monthly",
  [BudgetWindow.TOTAL]: "total",
};

export function toBudgetsJson(field: string, budgets: readonly Budget[]): BudgetJson[] {
  const seen = new Set<string>();
  return budgets.map((b, i) => {
    const window = WINDOWS[b.window];
    if (!window) throw invalid(`${field}[${i}].window`, "must be daily, weekly, monthly or total");
    if (seen.has(window)) throw invalid(`${field}[${i}].window`, `${window} appears twice`);
    seen.add(window);
    if (!Number.isFinite(b.limitUsd) || b.limitUsd < 0) {
      throw invalid(`${field}[${i}].limit_usd`, "must be a non-negative number");
    }
    return { window, limitUsd: b.limitUsd };
  });
}

const CAPTURE_MODES: Record<CaptureMode, InstanceRow["capture_mode"]> = {
  [CaptureMode.UNSPECIFIED]: "none",
  [CaptureMode.NONE]: "none",
  [CaptureMode.METADATA]: "metadata",
  [CaptureMode.FULL]: "full",
};

export function toCaptureMode(field: string, m: CaptureMode): InstanceRow["capture_mode"] {
  const mode = CAPTURE_MODES[m];
  if (!mode) throw invalid(field, "must be CAPTURE_MODE_NONE, CAPTURE_MODE_METADATA or CAPTURE_MODE_FULL");
  return mode;
}

export function checkProviderType(field: string, t: string): ProviderType {
  if (!(PROVIDER_TYPES as readonly string[]).includes(t)) {
    throw invalid(field, `must be one of ${PROVIDER_TYPES.join(", ")}`);
  }
  return t as ProviderType;
}

/** Empty is allowed (the adapter's default base URL). */
export function checkBaseUrl(field: string, v: string): string {
  if (!v) return "";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw invalid(field, "not an absolute http(s) URL");
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    throw invalid(field, "not an absolute http(s) URL");
  }
  // Credentials in the URL would be stored and shown unsealed.
  if (url.username || url.password) throw invalid(field, "must not contain user info");
  return v.replace(/\/+$/, "");
}

export function checkNonNegativeInt(field: string, v: number | bigint, max = 2_147_483_647): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw invalid(field, `must be an integer from 0 to ${max}`);
  return n;
}
