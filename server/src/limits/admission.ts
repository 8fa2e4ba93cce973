// Turns a store's evaluation into the answer the hot path sends: OpenAI-style x-ratelimit-*
// headers from the tightest scope, and on refusal Retry-After plus a readable message.
import { fromMicros } from "./plan.js";
import type { Admission, Evaluation, Header, Plan, Ticket, TokenDimension } from "./types.js";
import {
  REQUEST_WINDOW_MS,
  formatResetDuration,
  retryAfterSeconds,
  tokenBucketId,
  tokenBucketLeavesAt,
} from "./windows.js";

/** Longer waits than this tell SDKs not to retry on their own (the openai SDK sleeps for any Retry-After). */
const MAX_CLIENT_RETRY_MS = 60_000;

interface View {
  limit: number;
  remaining: number;
  resetMs: number;
}

const DIMENSION_TEXT: Record<TokenDimension, string> = {
  tokensPerMinute: "tokens per minute",
  tokensPerHour: "tokens per hour",
  tokensPerDay: "tokens per day",
};

function tightest(views: View[]): View | undefined {
  let best: View | undefined;
  for (const v of views) {
    if (!best || v.remaining < best.remaining || (v.remaining === best.remaining && v.limit < best.limit))
      best = v;
  }
  return best;
}

function requestViews(plan: Plan, ev: Evaluation, admitted: boolean): View[] {
  return plan.requests.map((check, i) => {
    const seen = ev.requests[i] ?? { used: 0, resetMs: 0 };
    return {
      limit: check.limit,
      remaining: Math.max(0, check.limit - seen.used - (admitted ? 1 : 0)),
      // An admitted request is the newest entry, so the window is clear one full window from now.
      resetMs: admitted ? REQUEST_WINDOW_MS : seen.resetMs,
    };
  });
}

function tokenViews(plan: Plan, ev: Evaluation, admitted: boolean): View[] {
  const spend = admitted ? plan.estimatedTokens : 0;
  return plan.tokens.map((check, i) => {
    const seen = ev.tokens[i] ?? { used: 0, resetMs: 0 };
    const ownReset =
      spend > 0
        ? tokenBucketLeavesAt(tokenBucketId(ev.now, check.bucketMs), check.windowMs, check.bucketMs) - ev.now
        : 0;
    return {
      limit: check.limit,
      remaining: Math.max(0, check.limit - seen.used - spend),
      resetMs: Math.max(seen.resetMs, ownReset),
    };
  });
}

export function rateHeaders(plan: Plan, ev: Evaluation, admitted: boolean): Header[] {
  const headers: Header[] = [];
  const req = tightest(requestViews(plan, ev, admitted));
  if (req) {
    headers.push(
      ["x-ratelimit-limit-requests", String(req.limit)],
      ["x-ratelimit-remaining-requests", String(req.remaining)],
      ["x-ratelimit-reset-requests", formatResetDuration(req.resetMs)],
    );
  }
  const tok = tightest(tokenViews(plan, ev, admitted));
  if (tok) {
    headers.push(
      ["x-ratelimit-limit-tokens", String(tok.limit)],
      ["x-ratelimit-remaining-tokens", String(tok.remaining)],
      ["x-ratelimit-reset-tokens", formatResetDuration(tok.resetMs)],
    );
  }
  return headers;
}

function usd(micros: number): string {
  return `$${fromMicros(micros).toFixed(micros % 10_000 === 0 ? 2 : 6)}`;
}

function waitText(seconds: number | null): string {
  return seconds === null ? "" : ` Try again in ${seconds}s.`;
}

function refusalText(plan: Plan, ev: Evaluation, failure: NonNullable<Evaluation["failure"]>): string {
  const seconds = retryAfterSeconds(failure.retryMs);
  switch (failure.kind) {
    case "requests": {
      const c = plan.requests[failure.index];
      if (!c) break;
      return `Rate limit reached for requests per minute on ${c.scopeId}: limit ${c.limit}.${waitText(seconds)}`;
    }
    case "tokens": {
      const c = plan.tokens[failure.index];
      if (!c) break;
      const what = DIMENSION_TEXT[c.dimension];
      if (failure.retryMs === null) {
        return `Request too large for ${what} on ${c.scopeId}: it may use ${plan.estimatedTokens} tokens, the limit is ${c.limit}.`;
      }
      const used = ev.tokens[failure.index]?.used ?? 0;
      return `Rate limit reached for ${what} on ${c.scopeId}: limit ${c.limit}, used ${used}, requested ${plan.estimatedTokens}.${waitText(seconds)}`;
    }
    case "concurrency": {
      const c = plan.concurrency[failure.index];
      if (!c) break;
      return `Too many concurrent requests on ${c.scopeId}: limit ${c.limit}.${waitText(seconds)}`;
    }
    case "budget": {
      const c = plan.budgets[failure.index];
      const seen = ev.budgets[failure.index];
      if (!c || !seen) break;
      const held = seen.reservedMicros > 0 ? `, ${usd(seen.reservedMicros)} held by requests in flight` : "";
      return `Budget exceeded on ${c.scopeId}: ${c.window} limit ${usd(c.limitMicros)}, spent ${usd(seen.spentMicros)}${held}.${waitText(seconds)}`;
    }
  }
  return "Rate limit reached.";
}

function failedScope(plan: Plan, failure: NonNullable<Evaluation["failure"]>): string {
  const list =
    failure.kind === "requests"
      ? plan.requests
      : failure.kind === "tokens"
        ? plan.tokens
        : failure.kind === "concurrency"
          ? plan.concurrency
          : plan.budgets;
  return list[failure.index]?.scopeId ?? "";
}

/** Headers every refusal carries on top of the x-ratelimit-* ones. */
export function retryHeaders(retryMs: number | null): Header[] {
  const seconds = retryAfterSeconds(retryMs);
  const headers: Header[] = [];
  if (seconds !== null && retryMs !== null) {
    headers.push(
      ["retry-after", String(seconds)],
      ["retry-after-ms", String(Math.max(0, Math.ceil(retryMs)))],
    );
  }
  if (retryMs === null || retryMs > MAX_CLIENT_RETRY_MS) headers.push(["x-should-retry", "false"]);
  return headers;
}

export function decide(plan: Plan, ev: Evaluation, ticket: Ticket): Admission {
  const failure = ev.failure;
  if (!failure) return { ok: true, ticket, headers: rateHeaders(plan, ev, true) };
  return {
    ok: false,
    reason: failure.kind,
    scopeId: failedScope(plan, failure),
    retryAfterSeconds: retryAfterSeconds(failure.retryMs),
    headers: [...retryHeaders(failure.retryMs), ...rateHeaders(plan, ev, false)],
    message: refusalText(plan, ev, failure),
  };
}
