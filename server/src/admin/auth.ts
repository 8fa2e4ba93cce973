// Admin API authentication and role checks. Every call needs `Authorization: Bearer <token>`.
// Tokens are the bootstrap token, the config file's tokens and tokens created through the API.
import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Kysely } from "kysely";
import type { AdminRoleName, KeygateConfig } from "../config/types.js";
import { hashKey } from "../secrets/virtual-key.js";
import { listAdminTokens } from "../store/admin-tokens.js";
import type { Database } from "../store/schema.js";
import { principalKey, type Principal } from "./context.js";
import { toConnectError, type ErrorLog } from "./errors.js";

export interface AdminAuth {
  authenticate(token: string): Promise<Principal | undefined>;
  /** Drops cached API tokens (call on an admin_token change notification). */
  invalidate(): void;
  /** Names that belong to the bootstrap token or the config file (not creatable through the API). */
  reservedNames(): ReadonlySet<string>;
}

export interface AdminAuthOptions {
  db: Kysely<Database>;
  config: KeygateConfig;
  bootstrapToken: string;
  /** API tokens are re-read at least this often even without a notification (default 30 s). */
  cacheTtlMs?: number;
}

const digest = (token: string) => createHash("sha256").update(token, "utf8").digest();

export function createAdminAuth(opts: AdminAuthOptions): AdminAuth {
  const fixed: { digest: Buffer; principal: Principal }[] = [
    { digest: digest(opts.bootstrapToken), principal: { name: "admin", role: "admin", source: "bootstrap" } },
    ...opts.config.admin.tokens.map((t) => ({
      digest: digest(t.token),
      principal: { name: t.name, role: t.role, source: "config" as const },
    })),
  ];
  const reserved = new Set(fixed.map((f) => f.principal.name));
  const ttl = opts.cacheTtlMs ?? 30_000;
  let cache: { loadedAt: number; byHash: Map<string, Principal> } | undefined;
  let loading: Promise<Map<string, Principal>> | undefined;

  async function apiTokens(): Promise<Map<string, Principal>> {
    if (cache && Date.now() - cache.loadedAt < ttl) return cache.byHash;
    loading ??= (async () => {
      try {
        const rows = await listAdminTokens(opts.db);
        const byHash = new Map(
          rows.map((r) => [r.token_hash, { name: r.name, role: r.role, source: "api" as const }]),
        );
        cache = { loadedAt: Date.now(), byHash };
        return byHash;
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  }

  return {
    async authenticate(token) {
      const d = digest(token);
      // Compare against every fixed token in constant time; no early exit.
      let found: Principal | undefined;
      for (const f of fixed) {
        if (timingSafeEqual(d, f.digest) && !found) found = f.principal;
      }
      if (found) return found;
      return (await apiTokens()).get(hashKey(token));
    },
    invalidate() {
      cache = undefined;
    },
    reservedNames: () => reserved,
  };
}

type Need = "read" | "operate" | "admin";

/** The least role each RPC needs. Methods not listed need admin (fail closed). */
const NEEDS: Record<string, Need> = {
  GetInstance: "read",
  ListInstances: "read",
  GetKey: "read",
  ListKeys: "read",
  GetProvider: "read",
  ListProviders: "read",
  QueryUsage: "read",
  ListRequests: "read",
  GetRequest: "read",
  WatchRequests: "read",
  GetLimitStatus: "read",
  ListRoutes: "read",
  ListAliases: "read",
  ListAuditEvents: "read",
  GetStatus: "read",
  CreateInstance: "operate",
  UpdateInstance: "operate",
  DeleteInstance: "operate",
  CreateKey: "operate",
  UpdateKey: "operate",
  RevokeKey: "operate",
  RotateKey: "operate",
  DeleteKey: "operate",
  ProbeProviders: "operate",
  CreateRoute: "operate",
  DeleteRoute: "operate",
  SetAlias: "operate",
  DeleteAlias: "operate",
  CreateProvider: "admin",
  UpdateProvider: "admin",
  DeleteProvider: "admin",
  CreateAdminToken: "admin",
  ListAdminTokens: "admin",
  DeleteAdminToken: "admin",
};

const ROLE_RANK: Record<AdminRoleName, number> = { viewer: 0, operator: 1, admin: 2 };
const NEED_RANK: Record<Need, number> = { read: 0, operate: 1, admin: 2 };

export function mayCall(role: AdminRoleName, method: string): boolean {
  return ROLE_RANK[role] >= NEED_RANK[NEEDS[method] ?? "admin"];
}

/** Only admins see captured request and response bodies. */
export const maySeeCaptures = (role: AdminRoleName) => role === "admin";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

async function* guardStream<T>(it: AsyncIterable<T>, method: string, log?: ErrorLog): AsyncIterable<T> {
  try {
    yield* it;
  } catch (err) {
    throw toConnectError(err, method, log);
  }
}

/**
 * Authenticates, authorises, stores the principal for handlers and turns unexpected errors into
 * a generic Internal error. Refusals never echo the presented token.
 */
export function authInterceptor(auth: AdminAuth, log?: ErrorLog): Interceptor {
  return (next) => async (req) => {
    const method = req.method.name;
    const match = BEARER.exec(req.header.get("authorization") ?? "");
    if (!match) throw new ConnectError("missing bearer token", Code.Unauthenticated);
    let principal: Principal | undefined;
    try {
      principal = await auth.authenticate(match[1] as string);
    } catch (err) {
      throw toConnectError(err, method, log);
    }
    if (!principal) throw new ConnectError("invalid admin token", Code.Unauthenticated);
    if (!mayCall(principal.role, method)) {
      throw new ConnectError(`role ${principal.role} may not call ${method}`, Code.PermissionDenied);
    }
    req.contextValues.set(principalKey, principal);
    try {
      const res = await next(req);
      return res.stream ? { ...res, message: guardStream(res.message, method, log) } : res;
    } catch (err) {
      throw toConnectError(err, method, log);
    }
  };
}
