// The shared limiter: every check for a request runs in one Lua script (one round trip), so limits
// hold exactly across replicas. While Redis is away, rate limits fall back to local counters or
// refuse, and budgets always refuse.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { decide, retryHeaders } from "./admission.js";
import {
  type MemoryState,
  IN_FLIGHT_RETRY_MS,
  WINDOW_SLACK_MS,
  createMemoryState,
  settleState,
  spendMicros,
} from "./memory-state.js";
import { admitLocally, budgetUnavailable, leaseOptions, newTicket, recordedSpend } from "./memory.js";
import { buildPlan, planFor, planIsEmpty, wholeTokens } from "./plan.js";
import { ADMIT_LUA, SETTLE_LUA } from "./redis-scripts.js";
import { toStatus } from "./status.js";
import type {
  Admission,
  BudgetCheck,
  CommonLimiterOptions,
  Evaluation,
  LimitKind,
  Limiter,
  Plan,
  SettleInput,
  Ticket,
  TokenDimension,
} from "./types.js";
import { retryAfterSeconds } from "./windows.js";

export interface RedisLimiterOptions extends CommonLimiterOptions {
  url: string;
  /** Namespace for every key, e.g. "keygate". */
  keyPrefix: string;
  /** What rate limits do while Redis is unreachable. Budgets always fail closed. */
  onOutage: "local" | "closed";
  /** Every Redis failure (the caller counts them); the limiter itself never throws on one. */
  onRedisError?: (err: unknown) => void;
  /** Longest wait for one Redis reply before falling back. Default 2000 ms. */
  commandTimeoutMs?: number;
  /**
   * After a failed call, skip Redis this long (or until it reconnects), so a hung server costs one
   * timeout rather than one per request. Default 1000 ms.
   */
  backoffMs?: number;
  /** Settles held while disconnected and sent on reconnect. Default 10 000. */
  maxPendingSettles?: number;
  /** Shown by CLIENT LIST. Default "keygate-limits". */
  connectionName?: string;
}

const ADMIT_COMMAND = "keygateLimitAdmit";
const SETTLE_COMMAND = "keygateLimitSettle";
const KINDS: LimitKind[] = ["requests", "tokens", "concurrency", "budget"];
const TOKEN_KEY: Record<TokenDimension, string> = {
  tokensPerMinute: "tpm",
  tokensPerHour: "tph",
  tokensPerDay: "tpd",
};

/** Keys of one script call: each declared once, referenced by 1-based index. */
function keyList(): { keys: string[]; at: (key: string) => number } {
  const keys: string[] = [];
  const index = new Map<string, number>();
  return {
    keys,
    at(key) {
      let i = index.get(key);
      if (i === undefined) {
        keys.push(key);
        i = keys.length;
        index.set(key, i);
      }
      return i;
    },
  };
}

function keyNames(prefix: string) {
  return {
    requests: (scopeId: string) => `${prefix}:rpm:${scopeId}`,
    tokens: (scopeId: string, d: TokenDimension) => `${prefix}:tok:${scopeId}:${TOKEN_KEY[d]}`,
    concurrency: (scopeId: string) => `${prefix}:conc:${scopeId}`,
    reservations: (scopeId: string) => `${prefix}:bres:${scopeId}`,
    reservationExpiry: (scopeId: string) => `${prefix}:bexp:${scopeId}`,
    budget: (c: BudgetCheck) => `${prefix}:budget:${c.scopeId}:${c.window}:${c.label}`,
  };
}

function num(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error("unexpected reply from the limit script");
  return n;
}

function list(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new Error("unexpected reply from the limit script");
  return v;
}

function pairs(v: unknown): [number, number][] {
  return list(v).map((p) => {
    const [a, b] = list(p);
    return [num(a), num(b)];
  });
}

type AdmitReply = { kind: "seed"; missing: number[] } | { kind: "done"; ev: Evaluation };

function parseAdmitReply(raw: unknown): AdmitReply {
  const r = list(raw);
  if (num(r[0]) === 1) return { kind: "seed", missing: list(r[1]).map(num) };
  const [, now, failKind, failIndex, retry, req, tok, conc, bud] = r;
  const kind = KINDS[num(failKind) - 1];
  const retryMs = num(retry);
  return {
    kind: "done",
    ev: {
      now: num(now),
      requests: pairs(req).map(([used, resetMs]) => ({ used, resetMs })),
      tokens: pairs(tok).map(([used, resetMs]) => ({ used, resetMs })),
      concurrency: list(conc).map((used) => ({ used: num(used) })),
      budgets: pairs(bud).map(([spentMicros, reservedMicros]) => ({ spentMicros, reservedMicros })),
      failure: kind ? { kind, index: num(failIndex), retryMs: retryMs === -1 ? null : retryMs } : null,
    },
  };
}

export function createRedisLimiter(opts: RedisLimiterOptions): Limiter {
  const leases = leaseOptions(opts);
  const names = keyNames(opts.keyPrefix);
  const local: MemoryState = createMemoryState();
  const backoffMs = opts.backoffMs ?? 1_000;
  const maxPending = opts.maxPendingSettles ?? 10_000;
  const report = (err: unknown): void => opts.onRedisError?.(err);

  const client = new Redis(opts.url, {
    // Fail fast instead of queueing while disconnected; keep reconnecting in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    connectionName: opts.connectionName ?? "keygate-limits",
  });
  client.defineCommand(ADMIT_COMMAND, { lua: ADMIT_LUA });
  client.defineCommand(SETTLE_COMMAND, { lua: SETTLE_LUA });

  let skipUntil = 0;
  let closed = false;
  // Settles that were never sent (Redis was down): safe to send once, later.
  let pending: { keys: string[]; spec: unknown }[] = [];
  const seeding = new Map<string, Promise<{ sourceError: unknown } | null>>();

  client.on("error", report);
  client.on("ready", () => {
    skipUntil = 0;
    const jobs = pending;
    pending = [];
    for (const job of jobs) runSettle(job);
  });

  const usable = (): boolean => client.status === "ready" && Date.now() >= skipUntil;

  async function run(command: string, keys: string[], spec: unknown): Promise<unknown> {
    // defineCommand adds the method at run time (EVALSHA, falling back to EVAL on NOSCRIPT).
    const fn: unknown = Reflect.get(client, command);
    if (typeof fn !== "function") throw new Error(`limit script ${command} is not loaded`);
    const reply: unknown = await fn.call(client, keys.length, ...keys, JSON.stringify(spec));
    return reply;
  }

  function admitSpec(plan: Plan, id: string, now: number | undefined, dry: boolean) {
    const k = keyList();
    const res = plan.reservationScopes.map((scopeId) => [
      k.at(names.reservations(scopeId)),
      k.at(names.reservationExpiry(scopeId)),
    ]);
    const spec = {
      now: now ?? 0,
      id,
      dry,
      est: plan.estimatedTokens,
      max: plan.maxCostMicros ?? -1,
      lease: leases.leaseMs,
      rttl: leases.reservationTtlMs,
      req: plan.requests.map((c) => [k.at(names.requests(c.scopeId)), c.limit]),
      tok: plan.tokens.map((c) => [
        k.at(names.tokens(c.scopeId, c.dimension)),
        c.limit,
        c.windowMs,
        c.bucketMs,
      ]),
      conc: plan.concurrency.map((c) => [k.at(names.concurrency(c.scopeId)), c.limit]),
      res,
      bud: plan.budgets.map((c) => [
        k.at(names.budget(c)),
        c.limitMicros,
        c.endsAt ?? -1,
        plan.reservationScopes.indexOf(c.scopeId) + 1,
      ]),
    };
    return { keys: k.keys, spec };
  }

  /**
   * Start a missing window counter from recorded spend; SET NX so the first replica wins. Resolves
   * with the spend source's error, if it failed; Redis errors reject.
   */
  function seed(check: BudgetCheck): Promise<{ sourceError: unknown } | null> {
    const key = names.budget(check);
    let job = seeding.get(key);
    if (!job) {
      job = (async () => {
        // A request that saw the window missing may get here after another seed finished.
        if ((await client.exists(key)) === 1) return null;
        let micros: number;
        try {
          micros = await recordedSpend(opts.seedSpend, check);
        } catch (err) {
          return { sourceError: err };
        }
        if (check.endsAt === null) await client.set(key, String(micros), "NX");
        else {
          const ttl = Math.max(WINDOW_SLACK_MS, check.endsAt + WINDOW_SLACK_MS - Date.now());
          await client.set(key, String(micros), "PX", ttl, "NX");
        }
        return null;
      })().finally(() => seeding.delete(key));
      seeding.set(key, job);
    }
    return job;
  }

  /** Runs the admit script, seeding windows it asks for. Redis errors throw; seed errors become a refusal. */
  async function evaluateShared(
    plan: Plan,
    id: string,
    now: number | undefined,
    dry: boolean,
  ): Promise<Evaluation | Admission> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { keys, spec } = admitSpec(plan, id, now, dry);
      const reply = parseAdmitReply(await run(ADMIT_COMMAND, keys, spec));
      if (reply.kind === "done") return reply.ev;
      const checks = reply.missing.map((i) => plan.budgets[i]).filter((c) => c !== undefined);
      for (const check of checks) {
        const failure = await seed(check);
        if (failure) {
          opts.onSeedError?.(failure.sourceError);
          return budgetUnavailable(check, "the spend history");
        }
      }
    }
    return budgetUnavailable(plan.budgets[0], "the budget store");
  }

  function outage(plan: Plan, now: number): Admission {
    if (plan.budgets.length > 0) return budgetUnavailable(plan.budgets[0], "the budget store");
    if (opts.onOutage === "local") return admitLocally(local, plan, now, "memory", leases);
    const scopeId =
      plan.requests[0]?.scopeId ?? plan.tokens[0]?.scopeId ?? plan.concurrency[0]?.scopeId ?? "";
    return {
      ok: false,
      reason: "unavailable",
      scopeId,
      retryAfterSeconds: retryAfterSeconds(IN_FLIGHT_RETRY_MS),
      headers: retryHeaders(IN_FLIGHT_RETRY_MS),
      message: "Rate limits cannot be checked: the limit store is unavailable. Try again shortly.",
    };
  }

  function busy(plan: Plan): Admission {
    const scopeId =
      plan.requests[0]?.scopeId ??
      plan.tokens[0]?.scopeId ??
      plan.concurrency[0]?.scopeId ??
      plan.budgets[0]?.scopeId ??
      "";
    return {
      ok: false,
      reason: "unavailable",
      scopeId,
      retryAfterSeconds: retryAfterSeconds(IN_FLIGHT_RETRY_MS),
      headers: retryHeaders(IN_FLIGHT_RETRY_MS),
      message: "Limits could not be checked in time. Try again shortly.",
    };
  }

  function failed(err: unknown): void {
    skipUntil = Date.now() + backoffMs;
    report(err);
  }

  /** The settle script's call, or null when it would change nothing (no round trip then). */
  function settleJob(ticket: Ticket, actual: SettleInput): { keys: string[]; spec: unknown } | null {
    const { plan } = ticket;
    const dt = actual.tokens === null ? 0 : wholeTokens(actual.tokens) - plan.estimatedTokens;
    const spend = spendMicros(ticket, actual);
    const reserved = (plan.maxCostMicros ?? 0) > 0 && plan.reservationScopes.length > 0;
    const tokens = dt !== 0 && plan.tokens.length > 0;
    const spent = spend > 0 && plan.budgets.length > 0;
    if (!tokens && !reserved && !spent && plan.concurrency.length === 0) return null;
    const k = keyList();
    const spec = {
      id: ticket.id,
      dt,
      tok: plan.tokens.map((c) => [
        k.at(names.tokens(c.scopeId, c.dimension)),
        String(Math.floor(ticket.now / c.bucketMs)),
      ]),
      conc: plan.concurrency.map((c) => k.at(names.concurrency(c.scopeId))),
      res: plan.reservationScopes.map((scopeId) => [
        k.at(names.reservations(scopeId)),
        k.at(names.reservationExpiry(scopeId)),
      ]),
      spend,
      bud: plan.budgets.map((c) => k.at(names.budget(c))),
    };
    return { keys: k.keys, spec };
  }

  function runSettle(job: { keys: string[]; spec: unknown }): void {
    if (client.status !== "ready") {
      if (pending.length < maxPending) pending.push(job);
      else report(new Error("limit settle dropped: Redis unreachable and the settle queue is full"));
      return;
    }
    // A settle that was sent but failed is not resent: it may have run. Its leases expire instead.
    run(SETTLE_COMMAND, job.keys, job.spec).catch(report);
  }

  return {
    async admit(input) {
      const planNow = input.now ?? Date.now();
      const plan = buildPlan(input, planNow);
      if (planIsEmpty(plan)) return { ok: true, ticket: newTicket("none", plan, planNow), headers: [] };
      if (!usable()) return outage(plan, planNow);
      const id = randomUUID();
      try {
        const result = await evaluateShared(plan, id, input.now, false);
        if (!("now" in result)) return result;
        return decide(plan, result, { id, store: "redis", now: result.now, plan, settled: false });
      } catch (err) {
        // Either way Redis is treated as unavailable for the back-off period (onOutage decides for
        // the requests that follow). This request, though, is refused when the connection is still
        // up: its script may have run in Redis, so admitting it locally could overshoot the limit.
        const connected = client.status === "ready";
        failed(err);
        return connected ? busy(plan) : outage(plan, planNow);
      }
    },

    settle(ticket, actual) {
      if (ticket.settled) return;
      ticket.settled = true;
      if (ticket.store === "memory") settleState(local, ticket, actual);
      else if (ticket.store === "redis") {
        const job = settleJob(ticket, actual);
        if (job) runSettle(job);
      }
    },

    async status(scope, at) {
      const plan = planFor([scope], 0, 0, at ?? Date.now());
      if (client.status !== "ready") throw new Error("the limit store is unavailable");
      const result = await evaluateShared(plan, randomUUID(), at, true);
      if (!("now" in result)) throw new Error(result.ok ? "unexpected admission" : result.message);
      return toStatus(plan, result, true);
    },

    async ready(timeoutMs = 5_000) {
      if (client.status === "ready") return true;
      return new Promise<boolean>((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(timer);
          client.off("ready", onReady);
          resolve(ok);
        };
        const onReady = (): void => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        client.on("ready", onReady);
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
