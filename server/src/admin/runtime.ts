// Live data the Admin API reads from the running gateway. The gateway supplies its own
// implementation; createLocalRuntime() is a complete single-process default.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import type {
  GetLimitStatusResponseSchema,
  GetStatusResponseSchema,
} from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { BudgetStatusSchema } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import type { BreakerStatusSchema, ProbeResultSchema } from "../../../sdk/gen/keygate/v1/provider_pb.js";
import type { Database, InstanceRow, VirtualKeyRow } from "../store/schema.js";
import { budgetMessages, rateLimitMessage, ts } from "./convert.js";
import { windowEnd, windowStart } from "./budget-window.js";
import { createLiveHub, type LiveEvent, type LiveHub } from "../usage/live.js";
import type { UsageRecord } from "../usage/record.js";

export type StatusInfo = Omit<
  MessageInitShape<typeof GetStatusResponseSchema>,
  "callerRole" | "callerName" | "$typeName"
>;
export type LimitStatusInfo = MessageInitShape<typeof GetLimitStatusResponseSchema>;
export type ProbeResultInit = MessageInitShape<typeof ProbeResultSchema>;
export type BreakerStatusInit = MessageInitShape<typeof BreakerStatusSchema>;
export type WatchEvent = LiveEvent;

export interface WatchFilter {
  instanceIds: string[];
  keyIds: string[];
  providerIds: string[];
  models: string[];
  /** "2xx", "4xx", "5xx" or an error class; empty passes all. */
  statuses: string[];
}

/** Whose limits GetLimitStatus reports (already looked up and known to exist). */
export type LimitPrincipal =
  { kind: "instance"; instance: InstanceRow } | { kind: "key"; key: VirtualKeyRow; instance: InstanceRow };

export interface AdminRuntime {
  status(): StatusInfo | Promise<StatusInfo>;
  /**
   * Completed request records until `signal` aborts. Filtering is applied by the caller too. The
   * watcher must be registered when this returns; `ready`, if present, resolves once records from
   * other replicas reach it as well.
   */
  watch(filter: WatchFilter, signal: AbortSignal): AsyncIterable<WatchEvent> & { ready?: Promise<void> };
  limitStatus(principal: LimitPrincipal): Promise<LimitStatusInfo>;
  /** `providerIds` are known to exist; never empty. */
  probe(providerIds: string[]): Promise<ProbeResultInit[]>;
  breaker(providerId: string): BreakerStatusInit | undefined;
}

export interface LocalRuntime extends AdminRuntime {
  /** Announces a completed request to watchers. */
  publish(record: UsageRecord): void;
  /** The hub behind watch(). */
  hub: LiveHub;
}

export interface LocalRuntimeOptions {
  db: Kysely<Database>;
  databaseKind: "postgres" | "pglite";
  replicaId: string;
  version?: string;
  clock?: () => Date;
}

/**
 * A single-process runtime: watchers fed by publish(), budgets computed from recorded usage,
 * no shared counters, no probes (every result says so), no breakers.
 */
export function createLocalRuntime(opts: LocalRuntimeOptions): LocalRuntime {
  const clock = opts.clock ?? (() => new Date());
  const started = clock();
  const hub = createLiveHub({});

  async function spent(column: "instance_id" | "key_id", id: string, since: Date): Promise<number> {
    const row = await opts.db
      .selectFrom("usage_records")
      .select(sql<number | null>`sum(cost_usd)`.as("spent"))
      .where(column, "=", id)
      .where("time", ">=", since)
      .executeTakeFirst();
    return Number(row?.spent ?? 0);
  }

  return {
    status: () => ({
      version: opts.version ?? "",
      replicaId: opts.replicaId,
      startTime: ts(started),
      uptimeSeconds: (clock().getTime() - started.getTime()) / 1000,
      database: { kind: opts.databaseKind, configured: true, ok: true, message: "" },
      redis: { kind: "memory", configured: false, ok: true, message: "" },
      usageQueueDepth: 0n,
      usageBuffered: 0n,
      notificationsConnected: false,
    }),
    watch: (filter, signal) => hub.watch(filter, signal),
    async limitStatus(p) {
      const now = clock();
      const rateLimit = p.kind === "key" ? p.key.rate_limit : p.instance.policy.rateLimit;
      const budgets = p.kind === "key" ? p.key.budgets : p.instance.policy.budgets;
      const column = p.kind === "key" ? "key_id" : "instance_id";
      const id = p.kind === "key" ? p.key.id : p.instance.id;
      const messages = budgetMessages(budgets);
      const statuses = await Promise.all(
        budgets.map(async (b, i) =>
          create(BudgetStatusSchema, {
            budget: messages[i],
            spentUsd: await spent(column, id, windowStart(b.window, now)),
            reservedUsd: 0,
            resetsAt: ts(windowEnd(b.window, now)),
          }),
        ),
      );
      return { rateLimit: rateLimitMessage(rateLimit), budgets: statuses, rateLimits: [], shared: false };
    },
    probe: async (ids) =>
      ids.map((providerId) => ({
        providerId,
        ok: false,
        message: "probes are not available on this replica",
      })),
    breaker: () => undefined,
    publish: (record) => hub.publish(record),
    hub,
  };
}
