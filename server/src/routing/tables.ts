// The routing tables the router runs on: the config file's rules and aliases merged with those
// created through the Admin API, in the one order the Admin API also shows (effective.ts).
import type { KeygateConfig } from "../config/types.js";
import { effectiveAliases, effectiveRoutes } from "./effective.js";
import type { DB } from "../store/db.js";
import { listAliases, listRoutes } from "../store/routes.js";
import type { RoutingTables } from "./router.js";

export async function loadRoutingTables(db: DB, config: KeygateConfig): Promise<RoutingTables> {
  const [routes, aliases] = await Promise.all([listRoutes(db), listAliases(db)]);
  return {
    rules: effectiveRoutes(config, routes).map((r) => ({
      match: r.match,
      provider: r.providerId,
      ...(r.model ? { model: r.model } : {}),
    })),
    aliases: Object.fromEntries(effectiveAliases(config, aliases).map((a) => [a.name, a.targets])),
    strategy: config.routing.strategy,
    chain: config.routing.chain,
  };
}
