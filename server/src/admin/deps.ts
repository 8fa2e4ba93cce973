// What the Admin API service needs from the gateway.
import type { HandlerContext } from "@connectrpc/connect";
import type { Kysely } from "kysely";
import type { KeygateConfig } from "../config/types.js";
import type { ProviderCatalog } from "../providers/catalog.js";
import type { Keyring } from "../secrets/seal.js";
import { recordAudit } from "../store/audit.js";
import type { Database } from "../store/schema.js";
import { inTransaction } from "../store/tx.js";
import { collectChanges, type ChangeEvent } from "../store/notify.js";
import type { AdminAuth } from "./auth.js";
import { clientIpKey, principalKey, type Principal } from "./context.js";
import type { ErrorLog } from "./errors.js";
import type { AdminRuntime } from "./runtime.js";

export interface AdminDeps {
  db: Kysely<Database>;
  config: KeygateConfig;
  keyring: Keyring;
  catalog: ProviderCatalog;
  /** Injected time (tests); defaults to the system clock. */
  clock?: () => Date;
  runtime: AdminRuntime;
  /**
   * Authentication; pass your own to call invalidate() on admin_token notifications. Default:
   * createAdminAuth with `adminToken`. Pass the same adminToken alongside your own auth.
   */
  auth?: AdminAuth;
  /** The bootstrap admin token (see secrets/admin-token.ts); default ensureAdminToken(config). */
  adminToken?: string;
  /** Where unexpected errors are logged (a pino logger fits). */
  logger?: ErrorLog;
  /**
   * Called after a mutation committed, with the changes it announced; the gateway resolves once its
   * own replica has applied them, so the caller's next request already sees the change.
   */
  afterCommit?: (changes: ChangeEvent[]) => Promise<void>;
}

/** The resolved dependencies handlers work with. */
export interface Svc extends Required<Pick<AdminDeps, "db" | "config" | "keyring" | "catalog" | "runtime">> {
  auth: AdminAuth;
  now(): Date;
  afterCommit?: (changes: ChangeEvent[]) => Promise<void>;
}

export function principalOf(ctx: HandlerContext): Principal {
  const p = ctx.values.get(principalKey);
  // The interceptor runs first; reaching here without a principal is a wiring bug.
  if (!p) throw new Error("admin call without principal");
  return p;
}

export type AuditFn = (action: string, resource: string, details?: Record<string, unknown>) => Promise<void>;

/**
 * Runs a mutation and its audit events in one transaction. `details` must hold no secret values.
 */
export async function mutate<T>(
  svc: Svc,
  ctx: HandlerContext,
  fn: (trx: Kysely<Database>, audit: AuditFn, now: Date) => Promise<T>,
): Promise<T> {
  const changes: ChangeEvent[] = [];
  const result = await runMutation(svc, ctx, changes, fn);
  if (changes.length > 0 && svc.afterCommit) await svc.afterCommit(changes);
  return result;
}

function runMutation<T>(
  svc: Svc,
  ctx: HandlerContext,
  changes: ChangeEvent[],
  fn: (trx: Kysely<Database>, audit: AuditFn, now: Date) => Promise<T>,
): Promise<T> {
  const principal = principalOf(ctx);
  const now = svc.now();
  return inTransaction(svc.db, (trx) => {
    collectChanges(trx, changes);
    return fn(
      trx,
      async (action, resource, details = {}) => {
        await recordAudit(trx, {
          time: now,
          actor: principal.name,
          actorRole: principal.role,
          action,
          resource,
          clientIp: ctx.values.get(clientIpKey),
          details,
        });
      },
      now,
    );
  });
}
