// Routing: ListRoutes, CreateRoute, DeleteRoute, ListAliases, SetAlias, DeleteAlias.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import {
  AliasSchema,
  AliasTargetSchema,
  RouteMatchSchema,
  RouteSchema,
  RouteSource,
  type Alias,
  type Route,
} from "../../../sdk/gen/keygate/v1/routing_pb.js";
import { isUniqueViolation } from "../store/errors.js";
import {
  createRoute,
  deleteAlias,
  deleteRoute,
  listAliases,
  listRoutes,
  newRouteId,
  setAlias,
  type RouteMatchJson,
} from "../store/routes.js";
import { mutate, type Svc } from "./deps.js";
import { alreadyExists, failedPrecondition, invalid, notFound } from "./errors.js";
import {
  CONFIG_ROUTE_PREFIX,
  configRoutes,
  effectiveAliases,
  effectiveRoutes,
  type EffectiveAlias,
  type EffectiveRoute,
} from "../routing/effective.js";
import { checkId, checkNonNegativeInt, checkRequired, checkText } from "./validate.js";

const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const SOURCE = { config: RouteSource.CONFIG, api: RouteSource.API } as const;

function routeMessage(r: EffectiveRoute): Route {
  return create(RouteSchema, {
    id: r.id,
    priority: r.priority,
    match: create(RouteMatchSchema, {
      ...(r.match.maxTokens !== undefined ? { maxTokens: BigInt(r.match.maxTokens) } : {}),
      tag: r.match.tag ?? "",
      model: r.match.model ?? "",
      default: r.match.default ?? false,
    }),
    providerId: r.providerId,
    model: r.model,
    source: SOURCE[r.source],
  });
}

function aliasMessage(a: EffectiveAlias): Alias {
  return create(AliasSchema, {
    name: a.name,
    targets: a.targets.map((t) =>
      create(AliasTargetSchema, { providerId: t.provider, model: t.model, weight: t.weight }),
    ),
    source: SOURCE[a.source],
  });
}

export function routingService(svc: Svc): Partial<ServiceImpl<typeof AdminService>> {
  const providerKnown = (id: string) => svc.catalog.get(id) !== undefined;

  return {
    async listRoutes() {
      const routes = effectiveRoutes(svc.config, await listRoutes(svc.db));
      const def = svc.catalog.list().find((p) => p.isDefault);
      return {
        routes: routes.map(routeMessage),
        strategy: svc.config.routing.strategy ?? "",
        fallbackChain: [...svc.config.routing.chain],
        defaultProviderId: def?.id ?? "",
      };
    },

    async createRoute(req, ctx) {
      const r = req.route;
      if (!r) throw invalid("route", "is required");
      const id = r.id ? checkId("route.id", r.id) : newRouteId();
      if (id.startsWith(CONFIG_ROUTE_PREFIX))
        throw invalid("route.id", `must not start with ${CONFIG_ROUTE_PREFIX}`);
      const providerId = checkRequired("route.provider_id", r.providerId);
      if (!providerKnown(providerId))
        throw invalid("route.provider_id", `unknown provider ${JSON.stringify(providerId)}`);
      const m = r.match;
      const match: RouteMatchJson = {};
      if (m?.maxTokens !== undefined) {
        if (m.maxTokens <= 0n || m.maxTokens > 100_000_000n) {
          throw invalid("route.match.max_tokens", "must be a positive integer");
        }
        match.maxTokens = Number(m.maxTokens);
      }
      if (m?.tag) match.tag = checkText("route.match.tag", m.tag, 64);
      if (m?.model) match.model = checkText("route.match.model", m.model);
      if (m?.default) match.default = true;
      if (Object.keys(match).length === 0) {
        throw invalid("route.match", "set at least one of max_tokens, tag, model, default");
      }
      const model = checkText("route.model", r.model);
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        let created;
        try {
          created = await createRoute(trx, { id, priority: r.priority, match, providerId, model }, now);
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyExists("route", id);
          throw err;
        }
        await audit("route.create", `routes/${id}`, {
          priority: r.priority,
          match,
          provider_id: providerId,
          model,
        });
        return created;
      });
      return {
        route: routeMessage({
          id: row.id,
          priority: row.priority,
          match: row.match,
          providerId: row.provider_id,
          model: row.model,
          source: "api",
        }),
      };
    },

    async deleteRoute(req, ctx) {
      const id = checkRequired("id", req.id);
      if (configRoutes(svc.config).some((r) => r.id === id)) {
        throw failedPrecondition(`route ${JSON.stringify(id)} comes from the config file and is read-only`);
      }
      await mutate(svc, ctx, async (trx, audit) => {
        if (!(await deleteRoute(trx, id))) throw notFound("route", id);
        await audit("route.delete", `routes/${id}`);
      });
      return {};
    },

    async listAliases() {
      return { aliases: effectiveAliases(svc.config, await listAliases(svc.db)).map(aliasMessage) };
    },

    async setAlias(req, ctx) {
      const a = req.alias;
      if (!a) throw invalid("alias", "is required");
      const name = checkRequired("alias.name", a.name);
      if (!ALIAS_NAME.test(name)) throw invalid("alias.name", `must match ${ALIAS_NAME.source}`);
      if (Object.hasOwn(svc.config.routing.aliases, name)) {
        throw failedPrecondition(`alias ${JSON.stringify(name)} comes from the config file and is read-only`);
      }
      if (a.targets.length === 0) throw invalid("alias.targets", "must have at least one target");
      if (a.targets.length > 32) throw invalid("alias.targets", "must have at most 32 targets");
      const targets = a.targets.map((t, i) => {
        const f = `alias.targets[${i}]`;
        if (!providerKnown(t.providerId))
          throw invalid(`${f}.provider_id`, `unknown provider ${JSON.stringify(t.providerId)}`);
        return {
          provider: t.providerId,
          model: checkText(`${f}.model`, checkRequired(`${f}.model`, t.model)),
          weight: checkNonNegativeInt(`${f}.weight`, t.weight, 1_000_000) || 1,
        };
      });
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        const saved = await setAlias(trx, name, targets, now);
        await audit("alias.set", `aliases/${name}`, { targets });
        return saved;
      });
      return { alias: aliasMessage({ name: row.name, targets: row.targets, source: "api" }) };
    },

    async deleteAlias(req, ctx) {
      const name = checkRequired("name", req.name);
      if (Object.hasOwn(svc.config.routing.aliases, name)) {
        throw failedPrecondition(`alias ${JSON.stringify(name)} comes from the config file and is read-only`);
      }
      await mutate(svc, ctx, async (trx, audit) => {
        if (!(await deleteAlias(trx, name))) throw notFound("alias", name);
        await audit("alias.delete", `aliases/${name}`);
      });
      return {};
    },
  };
}
