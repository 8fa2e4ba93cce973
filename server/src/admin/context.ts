// Values the HTTP layer and the auth interceptor attach to each Admin API call.
import { createContextKey } from "@connectrpc/connect";
import type { AdminRoleName } from "../config/types.js";

/**
 * The caller's address. The server that mounts the Admin API sets it, e.g.
 * `connectNodeAdapter({ contextValues: (req) => createContextValues().set(clientIpKey, ip) })`.
 */
export const clientIpKey = createContextKey<string>("", { description: "client IP address" });

export interface Principal {
  /** Token name: "admin" for the bootstrap token. */
  name: string;
  role: AdminRoleName;
  source: "bootstrap" | "config" | "api";
}

/** Set by the auth interceptor before any handler runs. */
export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "authenticated admin principal",
});
