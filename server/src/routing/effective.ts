// The effective routing table: config-file rules and aliases (read-only) merged with those
// created through the Admin API. The router and the Admin API share this one ordering.
import type { KeygateConfig } from "../config/types.js";
import type { AliasRow, AliasTargetJson, RouteMatchJson, RouteRow } from "../store/routes.js";

export interface EffectiveRoute {
  id: string;
  priority: number;
  match: RouteMatchJson;
  providerId: string;
  /** Empty: keep the requested model. */
  model: string;
  source: "config" | "api";
}

export interface EffectiveAlias {
  name: string;
  targets: AliasTargetJson[];
  source: "config" | "api";
}

export const CONFIG_ROUTE_PREFIX = "config-";
/** Config rule i gets priority (i + 1) * 10, so API rules can be placed between them. */
export const CONFIG_PRIORITY_STEP = 10;

export function configRoutes(config: KeygateConfig): EffectiveRoute[] {
  return config.routing.rules.map((r, i) => ({
    id: `${CONFIG_ROUTE_PREFIX}${i + 1}`,
    priority: (i + 1) * CONFIG_PRIORITY_STEP,
    match: { ...r.match },
    providerId: r.provider,
    model: r.model ?? "",
    source: "config",
  }));
}

/** Rules in evaluation order: ascending priority; at equal priority config rules first, then by id. */
export function effectiveRoutes(config: KeygateConfig, api: readonly RouteRow[]): EffectiveRoute[] {
  const fromApi: EffectiveRoute[] = api.map((r) => ({
    id: r.id,
    priority: r.priority,
    match: { ...r.match },
    providerId: r.provider_id,
    model: r.model,
    source: "api",
  }));
  return [...configRoutes(config), ...fromApi].sort(
    (a, b) =>
      a.priority - b.priority ||
      (a.source === b.source ? 0 : a.source === "config" ? -1 : 1) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Config aliases first (they cannot be shadowed), then API aliases by name. */
export function effectiveAliases(config: KeygateConfig, api: readonly AliasRow[]): EffectiveAlias[] {
  const fromConfig: EffectiveAlias[] = Object.entries(config.routing.aliases).map(([name, targets]) => ({
    name,
    targets: targets.map((t) => ({ ...t })),
    source: "config",
  }));
  const taken = new Set(fromConfig.map((a) => a.name));
  const fromApi: EffectiveAlias[] = api
    .filter((a) => !taken.has(a.name))
    .map((a) => ({ name: a.name, targets: a.targets.map((t) => ({ ...t })), source: "api" }));
  return [...fromConfig, ...fromApi];
}
