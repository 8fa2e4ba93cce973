// Flag value parsers. Each throws commander's InvalidArgumentError, which commander turns into a
// one-line usage error naming the flag (exit code 2).
import { InvalidArgumentError } from "commander";
import ipaddr from "ipaddr.js";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d|w)/g;
// RFC 3339 date-time (seconds and offset optional on input), or a bare date meaning midnight UTC.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/** `30s`, `15m`, `24h`, `7d`, `1h30m` → milliseconds. */
export function parseDuration(value: string): number {
  const v = value.trim();
  if (!DURATION.test(v)) throw new InvalidArgumentError("expected a duration like 30s, 15m, 24h or 7d");
  let ms = 0;
  for (const m of v.matchAll(DURATION_PART)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  return ms;
}

function parseTimestamp(value: string): Date | undefined {
  const v = value.trim();
  if (!TIMESTAMP.test(v)) return undefined;
  const date = new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** An RFC 3339 timestamp, or a duration meaning that long before now (`--since 24h`). */
export function parseInstant(value: string, now: Date = new Date()): Date {
  const at = parseTimestamp(value);
  if (at) return at;
  try {
    return new Date(now.getTime() - parseDuration(value));
  } catch {
    throw new InvalidArgumentError(
      "expected a duration like 24h or an RFC 3339 time like 2026-01-31T00:00:00Z",
    );
  }
}

export type Expiry = { ttlMs: number } | { at: Date };

/** `--expires`: a lifetime (`24h`) or an absolute RFC 3339 time in the future. */
export function parseExpiry(value: string, now: Date = new Date()): Expiry {
  const at = parseTimestamp(value);
  if (at) {
    if (at.getTime() <= now.getTime()) throw new InvalidArgumentError("that time is in the past");
    return { at };
  }
  let ttlMs: number;
  try {
    ttlMs = parseDuration(value);
  } catch {
    throw new InvalidArgumentError(
      "expected a lifetime like 24h or an RFC 3339 time like 2026-12-31T00:00:00Z",
    );
  }
  if (ttlMs <= 0) throw new InvalidArgumentError("must be longer than zero");
  return { ttlMs };
}

function integer(value: string, min: number, max: number): number {
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError("expected a whole number");
  const n = Number(v);
  if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
  return n;
}

export const parsePositiveInt = (value: string): number => integer(value, 1, 2 ** 31 - 1);
export const parseNonNegativeInt = (value: string): number => integer(value, 0, 2 ** 31 - 1);

/** A positive int64 limit (requests, tokens). */
export function parseLimit(value: string): bigint {
  const v = value.trim();
  if (!/^\d+$/.test(v) || BigInt(v) < 1n)
    throw new InvalidArgumentError("expected a whole number above zero");
  if (BigInt(v) > 2n ** 63n - 1n) throw new InvalidArgumentError("too large");
  return BigInt(v);
}

export function parseBool(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

/** A comma-separated list; empty items are dropped. */
export function parseList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Accumulator for repeatable flags that also accept comma lists (`--by a --by b,c`). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...parseList(value)];
}

/** Accumulator for repeatable flags taken verbatim. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Accumulates `k=v` labels into a map; a repeated key is a mistake, not an override. */
export function collectLabel(
  kv: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = kv.indexOf("=");
  const key = eq > 0 ? kv.slice(0, eq).trim() : "";
  if (!key) throw new InvalidArgumentError("expected key=value");
  if (previous && key in previous) throw new InvalidArgumentError(`label "${key}" given twice`);
  return { ...previous, [key]: kv.slice(eq + 1).trim() };
}

/** A source CIDR; a bare address means that single host. */
export function parseCidr(value: string): string {
  const v = value.trim();
  try {
    if (v.includes("/")) {
      const [addr, bits] = ipaddr.parseCIDR(v);
      return `${addr.toString()}/${bits}`;
    }
    const addr = ipaddr.parse(v);
    return `${addr.toString()}/${addr.kind() === "ipv4" ? 32 : 128}`;
  } catch {
    throw new InvalidArgumentError("expected a CIDR like 10.0.0.0/8 or an IP address");
  }
}

/** A value from a fixed set of words. */
export function oneOf<T extends string>(words: readonly T[]): (value: string) => T {
  return (value) => {
    const v = value.trim().toLowerCase();
    const hit = words.find((w) => w === v);
    if (hit === undefined) throw new InvalidArgumentError(`expected one of ${words.join(", ")}`);
    return hit;
  };
}

export const BUDGET_WINDOWS = ["day", "week", "month", "total"] as const;
export type BudgetWindowWord = (typeof BUDGET_WINDOWS)[number];

/** `5/day`, `$120.50/month` → a USD cap over one window. */
export function parseBudget(value: string): { limitUsd: number; window: BudgetWindowWord } {
  const m = /^\$?(\d+(?:\.\d+)?)\/(\w+)$/.exec(value.trim());
  const window = BUDGET_WINDOWS.find((w) => w === m?.[2]?.toLowerCase());
  if (!m || window === undefined) {
    throw new InvalidArgumentError(
      `expected USD/window like 5/day, where window is ${BUDGET_WINDOWS.join("|")}`,
    );
  }
  const limitUsd = Number(m[1]);
  if (!(limitUsd > 0)) throw new InvalidArgumentError("the amount must be above zero");
  return { limitUsd, window };
}

export function collectCidr(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), parseCidr(value)];
}

export function collectBudget(
  value: string,
  previous: { limitUsd: number; window: BudgetWindowWord }[] | undefined,
): { limitUsd: number; window: BudgetWindowWord }[] {
  return [...(previous ?? []), parseBudget(value)];
}

/**
 * `provider/model[:weight]`. The provider ends at the first slash (model names may contain
 * slashes and colons: `openrouter/openai/gpt-4o`, `ollama/codellama:34b`); only a trailing
 * `:<digits>` is a weight.
 */
export function parseAliasTarget(value: string): { providerId: string; model: string; weight: number } {
  const v = value.trim();
  const slash = v.indexOf("/");
  if (slash <= 0 || slash === v.length - 1) {
    throw new InvalidArgumentError(`alias target "${value}" must look like provider/model[:weight]`);
  }
  const providerId = v.slice(0, slash);
  let model = v.slice(slash + 1);
  let weight = 0;
  const w = /:(\d+)$/.exec(model);
  if (w && w.index > 0) {
    weight = integer(w[1] ?? "", 1, 2 ** 31 - 1);
    model = model.slice(0, w.index);
  }
  return { providerId, model, weight };
}
