// Mounts the Admin API: every RPC of AdminService behind the auth interceptor.
import type { ConnectRouter } from "@connectrpc/connect";
import { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { ensureAdminToken } from "../secrets/admin-token.js";
import { authInterceptor, createAdminAuth } from "./auth.js";
import type { AdminDeps, Svc } from "./deps.js";
import { instanceService } from "./service-instances.js";
import { keyService } from "./service-keys.js";
import { providerService } from "./service-providers.js";
import { routingService } from "./service-routing.js";
import { usageService } from "./service-usage.js";
import { adminService } from "./service-admin.js";

export type { AdminDeps } from "./deps.js";

export function adminRoutes(deps: AdminDeps): (router: ConnectRouter) => void {
  const bootstrapToken = deps.adminToken ?? ensureAdminToken(deps.config).token;
  const auth = deps.auth ?? createAdminAuth({ db: deps.db, config: deps.config, bootstrapToken });
  const clock = deps.clock ?? (() => new Date());
  const svc: Svc = {
    db: deps.db,
    config: deps.config,
    keyring: deps.keyring,
    catalog: deps.catalog,
    runtime: deps.runtime,
    auth,
    now: clock,
    ...(deps.afterCommit ? { afterCommit: deps.afterCommit } : {}),
  };
  const impl = {
    ...instanceService(svc),
    ...keyService(svc),
    ...providerService(svc),
    ...usageService(svc),
    ...routingService(svc),
    ...adminService(svc, bootstrapToken),
  };
  return (router) => {
    router.service(AdminService, impl, { interceptors: [authInterceptor(auth, deps.logger)] });
  };
}
