// Counters for one process. Every function here is synchronous, so check-then-commit is atomic
// on the event loop. The Redis script (redis-scripts.ts) implements the same rules.
import type { BudgetWindowName } from "../config/types.js";
import { toMicros, wholeTokens } from "./plan.js";
import type { BudgetCheck, Evaluation, LimitKind, Plan, SettleInput, Ticket } from "./types.js";
import {
  REQUEST_WINDOW_MS,
  requestRetryMs,
  tokenBucketId,
  tokenBucketLeavesAt,
  tokenRetryMs,
} from "./windows.js";

/** Wait suggested when only in-flight requests block (they release on settle). */
export const IN_FLIGHT_RETRY_MS = 1_000;
/** Budget windows stay countable this long after they end, for requests that straddle the boundary. */
export const WINDOW_SLACK_MS = 3_600_000;

interface RequestLog {
  /** Ascending timestamps; entries before `head` have left the window. */
  times: number[];
  head: number;
}

interface TokenLog {
  windowMs: number;
  bucketMs: number;
  buckets: Map<number, number>;
}

interface Reservations {
  sum: number;
  byTicket: Map<string, { micros: number; expiresAt: number }>;
}

interface Spend {
  label: string;
  micros: number;
  /** When this window's counter may be dropped; null for total. */
  dropAt: number | null;
}

export interface MemoryState {
  requests: Map<string, RequestLog>;
  tokens: Map<string, TokenLog>;
  concurrency: Map<string, Map<string, number>>;
  reservations: Map<string, Reservations>;
  spent: Map<string, Spend>;
  lastSweep: number;
}

export interface LeaseOptions {
  leaseMs: number;
  reservationTtlMs: number;
}

export function createMemoryState(): MemoryState {
  return {
    requests: new Map(),
    tokens: new Map(),
    concurrency: new Map(),
    reservations: new Map(),
    spent: new Map(),
    lastSweep: 0,
  };
}

const tokenKey = (scopeId: string, dimension: string): string => `${scopeId}\0${dimension}`;
const spendKey = (scopeId: string, window: BudgetWindowName): string => `${scopeId}\0${window}`;

function liveRequests(state: MemoryState, scopeId: string, now: number): RequestLog {
  let log = state.requests.get(scopeId);
  if (!log) {
    log = { times: [], head: 0 };
    state.requests.set(scopeId, log);
  }
  const cutoff = now - REQUEST_WINDOW_MS;
  while (log.head < log.times.length && (log.times[log.head] ?? Infinity) <= cutoff) log.head++;
  if (log.head > 64 && log.head * 2 > log.times.length) {
    log.times = log.times.slice(log.head);
    log.head = 0;
  }
  return log;
}

function liveTokens(
  state: MemoryState,
  key: string,
  windowMs: number,
  bucketMs: number,
  now: number,
): TokenLog {
  let log = state.tokens.get(key);
  if (!log || log.windowMs !== windowMs || log.bucketMs !== bucketMs) {
    log = { windowMs, bucketMs, buckets: new Map() };
    state.tokens.set(key, log);
  }
  const oldest = tokenBucketId(now, bucketMs) - windowMs / bucketMs;
  for (const id of log.buckets.keys()) if (id < oldest) log.buckets.delete(id);
  return log;
}

function liveLeases(state: MemoryState, scopeId: string, now: number): Map<string, number> {
  let leases = state.concurrency.get(scopeId);
  if (!leases) {
    leases = new Map();
    state.concurrency.set(scopeId, leases);
  }
  for (const [id, expiresAt] of leases) if (expiresAt <= now) leases.delete(id);
  return leases;
}

function liveReservations(state: MemoryState, scopeId: string, now: number): Reservations {
  let res = state.reservations.get(scopeId);
  if (!res) {
    res = { sum: 0, byTicket: new Map() };
    state.reservations.set(scopeId, res);
  }
  for (const [id, r] of res.byTicket) {
    if (r.expiresAt <= now) {
      res.byTicket.delete(id);
      res.sum -= r.micros;
    }
  }
  return res;
}

/** Indexes of plan.budgets whose current window has no counter yet (it must be seeded first). */
export function missingBudgets(state: MemoryState, plan: Plan): number[] {
  const missing: number[] = [];
  plan.budgets.forEach((check, i) => {
    if (state.spent.get(spendKey(check.scopeId, check.window))?.label !== check.label) missing.push(i);
  });
  return missing;
}

/** Start a window's counter from recorded spend, unless it was started meanwhile. */
export function seedBudget(state: MemoryState, check: BudgetCheck, micros: number): void {
  const key = spendKey(check.scopeId, check.window);
  if (state.spent.get(key)?.label === check.label) return;
  state.spent.set(key, {
    label: check.label,
    micros,
    dropAt: check.endsAt === null ? null : check.endsAt + WINDOW_SLACK_MS,
  });
}

/** Longest wait wins (null = never is longest): reporting a short wait would only earn another refusal. */
function longer(a: number | null, b: number | null): boolean {
  if (a === null) return b !== null;
  return b !== null && a > b;
}

export function evaluate(state: MemoryState, plan: Plan, now: number): Evaluation {
  const ev: Evaluation = { now, requests: [], tokens: [], concurrency: [], budgets: [], failure: null };
  const fail = (kind: LimitKind, index: number, retryMs: number | null): void => {
    if (!ev.failure || longer(retryMs, ev.failure.retryMs)) ev.failure = { kind, index, retryMs };
  };

  plan.requests.forEach((check, i) => {
    const log = liveRequests(state, check.scopeId, now);
    const used = log.times.length - log.head;
    const newest = log.times[log.times.length - 1];
    ev.requests.push({
      used,
      resetMs: used > 0 && newest !== undefined ? newest + REQUEST_WINDOW_MS - now : 0,
    });
    if (used + 1 > check.limit) {
      fail("requests", i, requestRetryMs(log.times.slice(log.head), check.limit, REQUEST_WINDOW_MS, now));
    }
  });

  plan.tokens.forEach((check, i) => {
    const log = liveTokens(
      state,
      tokenKey(check.scopeId, check.dimension),
      check.windowMs,
      check.bucketMs,
      now,
    );
    const buckets = [...log.buckets].map(([id, tokens]) => ({ id, tokens })).sort((a, b) => a.id - b.id);
    const used = buckets.reduce((sum, b) => sum + b.tokens, 0);
    const newest = buckets[buckets.length - 1];
    ev.tokens.push({
      used,
      resetMs: newest ? tokenBucketLeavesAt(newest.id, check.windowMs, check.bucketMs) - now : 0,
    });
    if (used + plan.estimatedTokens > check.limit) {
      fail(
        "tokens",
        i,
        tokenRetryMs(buckets, plan.estimatedTokens, check.limit, check.windowMs, check.bucketMs, now),
      );
    }
  });

  plan.concurrency.forEach((check, i) => {
    const used = liveLeases(state, check.scopeId, now).size;
    ev.concurrency.push({ used });
    if (used + 1 > check.limit) fail("concurrency", i, check.limit > 0 ? IN_FLIGHT_RETRY_MS : null);
  });

  plan.budgets.forEach((check, i) => {
    const spent = state.spent.get(spendKey(check.scopeId, check.window));
    const spentMicros = spent?.label === check.label ? spent.micros : 0;
    const reservedMicros = liveReservations(state, check.scopeId, now).sum;
    ev.budgets.push({ spentMicros, reservedMicros });
    const retry = budgetRetryMs(check, spentMicros, reservedMicros, plan.maxCostMicros, now);
    if (retry !== 0) fail("budget", i, retry);
  });
  return ev;
}

/** 0 when the request fits the budget; otherwise the wait (null: never). */
export function budgetRetryMs(
  check: BudgetCheck,
  spent: number,
  reserved: number,
  maxCost: number | null,
  now: number,
): number | null {
  const cost = maxCost ?? 0;
  // Unknown price reserves nothing, but an exhausted budget still refuses.
  const over =
    maxCost === null ? spent + reserved >= check.limitMicros : spent + reserved + cost > check.limitMicros;
  if (!over) return 0;
  if (cost > check.limitMicros || check.limitMicros === 0) return null;
  const spentOut = maxCost === null ? spent >= check.limitMicros : spent + cost > check.limitMicros;
  if (!spentOut) return IN_FLIGHT_RETRY_MS;
  return check.endsAt === null ? null : Math.max(1, check.endsAt - now);
}

export function commit(
  state: MemoryState,
  plan: Plan,
  now: number,
  ticketId: string,
  opts: LeaseOptions,
): void {
  for (const check of plan.requests) {
    const log = liveRequests(state, check.scopeId, now);
    // Timestamps stay sorted even if a caller's clock steps back.
    let at = log.times.length;
    while (at > log.head && (log.times[at - 1] ?? 0) > now) at--;
    log.times.splice(at, 0, now);
  }
  if (plan.estimatedTokens > 0) {
    for (const check of plan.tokens) {
      const log = liveTokens(
        state,
        tokenKey(check.scopeId, check.dimension),
        check.windowMs,
        check.bucketMs,
        now,
      );
      const id = tokenBucketId(now, check.bucketMs);
      log.buckets.set(id, (log.buckets.get(id) ?? 0) + plan.estimatedTokens);
    }
  }
  for (const check of plan.concurrency)
    liveLeases(state, check.scopeId, now).set(ticketId, now + opts.leaseMs);
  const reserve = plan.maxCostMicros ?? 0;
  if (reserve > 0) {
    for (const scopeId of plan.reservationScopes) {
      const res = liveReservations(state, scopeId, now);
      res.byTicket.set(ticketId, { micros: reserve, expiresAt: now + opts.reservationTtlMs });
      res.sum += reserve;
    }
  }
  if (now - state.lastSweep > REQUEST_WINDOW_MS) sweep(state, now);
}

/** Micro-dollars a settled request adds to its windows: the actual cost, else its reservation. */
export function spendMicros(ticket: Ticket, actual: SettleInput): number {
  return actual.costUsd !== null && Number.isFinite(actual.costUsd)
    ? toMicros(actual.costUsd, "nearest")
    : (ticket.plan.maxCostMicros ?? 0);
}

export function settleState(state: MemoryState, ticket: Ticket, actual: SettleInput): void {
  const { plan } = ticket;
  const delta = actual.tokens === null ? 0 : wholeTokens(actual.tokens) - plan.estimatedTokens;
  if (delta !== 0) {
    for (const check of plan.tokens) {
      const log = state.tokens.get(tokenKey(check.scopeId, check.dimension));
      const id = tokenBucketId(ticket.now, check.bucketMs);
      const current = log?.buckets.get(id);
      // A bucket that already left its window no longer matters.
      if (!log || current === undefined) continue;
      if (current + delta > 0) log.buckets.set(id, current + delta);
      else log.buckets.delete(id);
    }
  }
  for (const check of plan.concurrency) state.concurrency.get(check.scopeId)?.delete(ticket.id);
  for (const scopeId of plan.reservationScopes) {
    const res = state.reservations.get(scopeId);
    const r = res?.byTicket.get(ticket.id);
    if (res && r) {
      res.byTicket.delete(ticket.id);
      res.sum -= r.micros;
    }
  }
  const spend = spendMicros(ticket, actual);
  if (spend > 0) {
    for (const check of plan.budgets) {
      const entry = state.spent.get(spendKey(check.scopeId, check.window));
      // A window never started here is seeded later from recorded usage, which includes this request.
      if (entry?.label === check.label) entry.micros += spend;
    }
  }
}

/** Drop counters nobody has touched for a window, so idle scopes do not pile up. */
export function sweep(state: MemoryState, now: number): void {
  state.lastSweep = now;
  for (const scopeId of state.requests.keys()) {
    const log = liveRequests(state, scopeId, now);
    if (log.head === log.times.length) state.requests.delete(scopeId);
  }
  for (const [key, log] of state.tokens) {
    liveTokens(state, key, log.windowMs, log.bucketMs, now);
    if (log.buckets.size === 0) state.tokens.delete(key);
  }
  for (const scopeId of state.concurrency.keys()) {
    if (liveLeases(state, scopeId, now).size === 0) state.concurrency.delete(scopeId);
  }
  for (const scopeId of state.reservations.keys()) {
    if (liveReservations(state, scopeId, now).byTicket.size === 0) state.reservations.delete(scopeId);
  }
  for (const [key, spend] of state.spent)
    if (spend.dropAt !== null && spend.dropAt <= now) state.spent.delete(key);
}
