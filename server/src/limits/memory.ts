// The limiter for a single process: counters in memory, spend seeded once per window from seedSpend.
import { randomUUID } from "node:crypto";
import { decide, retryHeaders } from "./admission.js";
import {
  type LeaseOptions,
  type MemoryState,
  IN_FLIGHT_RETRY_MS,
  commit,
  createMemoryState,
  evaluate,
  missingBudgets,
  seedBudget,
  settleState,
} from "./memory-state.js";
import { buildPlan, planFor, planIsEmpty, toMicros } from "./plan.js";
import { toStatus } from "./status.js";
import type {
  Admission,
  BudgetCheck,
  CommonLimiterOptions,
  Limiter,
  Plan,
  SeedSpend,
  Ticket,
} from "./types.js";
import { retryAfterSeconds } from "./windows.js";

export const DEFAULT_LEASE_MS = 15 * 60_000;

export interface MemoryLimiterOptions extends CommonLimiterOptions {
  /** Clock for admits that carry no `now` (tests). Default Date.now. */
  clock?: () => number;
}

export function leaseOptions(opts: CommonLimiterOptions): LeaseOptions {
  return {
    leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
    reservationTtlMs: opts.reservationTtlMs ?? DEFAULT_LEASE_MS,
  };
}

export function newTicket(store: Ticket["store"], plan: Plan, now: number): Ticket {
  return { id: randomUUID(), store, now, plan, settled: false };
}

/** Evaluate and, if everything fits, count the request: synchronous, hence atomic. */
export function admitLocally(
  state: MemoryState,
  plan: Plan,
  now: number,
  store: Ticket["store"],
  opts: LeaseOptions,
): Admission {
  const ticket = newTicket(store, plan, now);
  const ev = evaluate(state, plan, now);
  if (!ev.failure) commit(state, plan, now, ticket.id, opts);
  return decide(plan, ev, ticket);
}

/** Refusal used when a budget cannot be checked: budgets always fail closed. */
export function budgetUnavailable(check: BudgetCheck | undefined, what: string): Admission {
  return {
    ok: false,
    reason: "budget",
    scopeId: check?.scopeId ?? "",
    retryAfterSeconds: retryAfterSeconds(IN_FLIGHT_RETRY_MS),
    headers: retryHeaders(IN_FLIGHT_RETRY_MS),
    message: `Budget cannot be checked: ${what} is unavailable. Try again shortly.`,
  };
}

/** Recorded spend for a window in micro-dollars (0 without a seed source). */
export async function recordedSpend(seedSpend: SeedSpend | undefined, check: BudgetCheck): Promise<number> {
  if (!seedSpend) return 0;
  const usd = await seedSpend(check.scopeId, check.window, new Date(check.startsAt));
  if (!Number.isFinite(usd))
    throw new Error(`recorded spend for ${check.scopeId} (${check.window}) is not a number`);
  return toMicros(usd, "nearest");
}

export function createMemoryLimiter(opts: MemoryLimiterOptions = {}): Limiter {
  const state = createMemoryState();
  const leases = leaseOptions(opts);
  const clock = opts.clock ?? Date.now;
  // One seed per window even when many requests arrive before it finishes.
  const seeding = new Map<string, Promise<void>>();

  function seed(check: BudgetCheck): Promise<void> {
    const key = `${check.scopeId}\0${check.window}\0${check.label}`;
    let pending = seeding.get(key);
    if (!pending) {
      pending = recordedSpend(opts.seedSpend, check)
        .then((micros) => seedBudget(state, check, micros))
        .finally(() => seeding.delete(key));
      seeding.set(key, pending);
    }
    return pending;
  }

  /** Seeds the plan's missing windows; returns the check that could not be seeded, if any. */
  async function seedMissing(plan: Plan): Promise<{ failed: BudgetCheck | undefined } | null> {
    const missing = missingBudgets(state, plan)
      .map((i) => plan.budgets[i])
      .filter((c) => c !== undefined);
    const results = await Promise.allSettled(missing.map(seed));
    const i = results.findIndex((r) => r.status === "rejected");
    const rejected = results[i];
    if (!rejected) return null;
    if (rejected.status === "rejected") opts.onSeedError?.(rejected.reason);
    return { failed: missing[i] };
  }

  return {
    async admit(input) {
      const now = input.now ?? clock();
      const plan = buildPlan(input, now);
      if (planIsEmpty(plan)) return { ok: true, ticket: newTicket("none", plan, now), headers: [] };
      if (plan.budgets.length > 0) {
        const seedFailure = await seedMissing(plan);
        if (seedFailure) return budgetUnavailable(seedFailure.failed, "the spend history");
      }
      return admitLocally(state, plan, now, "memory", leases);
    },

    settle(ticket, actual) {
      if (ticket.settled) return;
      ticket.settled = true;
      if (ticket.store === "memory") settleState(state, ticket, actual);
    },

    async status(scope, at) {
      const now = at ?? clock();
      const plan = planFor([scope], 0, 0, now);
      const seedFailure = await seedMissing(plan);
      if (seedFailure) throw new Error("spend history is unavailable");
      return toStatus(plan, evaluate(state, plan, now), false);
    },

    async ready() {
      return true;
    },

    async close() {},
  };
}
