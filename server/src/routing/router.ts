// Decides which provider (and model) serves a request: aliases, then routing rules (first match
// wins), then the providers' model lists, then an explicit "provider/model", then the default
// provider. With strategy "fallback", the rest of the chain follows as fallback targets.
import type { AliasTargetConfig, ProviderType, RouteRuleConfig } from "../config/types.js";
import { globToRegExp } from "../util/glob.js";

export interface RoutableProvider {
  id: string;
  type: ProviderType;
  models: string[];
  isDefault: boolean;
  weight: number;
}

export interface RouteTarget<P extends RoutableProvider = RoutableProvider> {
  provider: P;
  model: string;
}

export interface RouteQuery {
  model: string;
  maxTokens: number | undefined;
  tag: string;
}

export interface Router<P extends RoutableProvider = RoutableProvider> {
  /** Ordered targets: the first is primary, the rest are fallbacks. Empty when nothing serves the model. */
  resolve(q: RouteQuery): RouteTarget<P>[];
  /** Every model name a client may ask for (for /v1/models listings). */
  models(): { id: string; provider: P }[];
}

export interface RoutingTables {
  rules: RouteRuleConfig[];
  aliases: Record<string, AliasTargetConfig[]>;
  strategy?: "fallback";
  chain: string[];
}

/** Weighted order without replacement: a higher weight is more likely to come first. */
export function weightedOrder<T>(items: readonly T[], weight: (t: T) => number, rand = Math.random): T[] {
  if (items.length <= 1) return items.slice();
  const pool = items.slice();
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, t) => s + Math.max(0, weight(t)), 0);
    let pick = 0;
    if (total > 0) {
      let r = rand() * total;
      for (let i = 0; i < pool.length; i++) {
        r -= Math.max(0, weight(pool[i]!));
        if (r < 0) {
          pick = i;
          break;
        }
      }
    }
    out.push(pool.splice(pick, 1)[0]!);
  }
  return out;
}

export function createRouter<P extends RoutableProvider>(
  providers: readonly P[],
  tables: RoutingTables,
): Router<P> {
  const byId = new Map(providers.map((p) => [p.id, p]));
  const byModel = new Map<string, P[]>();
  for (const p of providers)
    for (const m of p.models) {
      const list = byModel.get(m);
      if (list) list.push(p);
      else byModel.set(m, [p]);
    }
  const defaultProvider = providers.find((p) => p.isDefault);
  const rules = tables.rules.map((r) => ({
    ...r,
    modelRe: r.match.model ? globToRegExp(r.match.model) : undefined,
  }));

  function ruleMatches(r: (typeof rules)[number], q: RouteQuery): boolean {
    const m = r.match;
    if (m.maxTokens !== undefined && (q.maxTokens === undefined || q.maxTokens > m.maxTokens)) return false;
    if (m.tag !== undefined && m.tag !== q.tag) return false;
    if (r.modelRe && !r.modelRe.test(q.model)) return false;
    // A rule with no conditions at all only matches when it says default: true.
    return m.default === true || m.maxTokens !== undefined || m.tag !== undefined || r.modelRe !== undefined;
  }

  /** The model a provider is asked for when it was not chosen for this model by name. */
  function modelFor(p: P, requested: string): string {
    return p.models.length === 0 || p.models.includes(requested) ? requested : p.models[0]!;
  }

  function primary(q: RouteQuery): RouteTarget<P>[] {
    const alias = tables.aliases[q.model];
    if (alias) {
      const targets = alias
        .map((t) => ({ provider: byId.get(t.provider), model: t.model, weight: t.weight }))
        .filter((t): t is { provider: P; model: string; weight: number } => t.provider !== undefined);
      return weightedOrder(targets, (t) => t.weight).map(({ provider, model }) => ({ provider, model }));
    }
    for (const r of rules) {
      if (!ruleMatches(r, q)) continue;
      const p = byId.get(r.provider);
      if (p) return [{ provider: p, model: r.model ?? modelFor(p, q.model) }];
    }
    const listed = byModel.get(q.model);
    if (listed) return weightedOrder(listed, (p) => p.weight).map((p) => ({ provider: p, model: q.model }));
    const slash = q.model.indexOf("/");
    if (slash > 0) {
      const p = byId.get(q.model.slice(0, slash));
      if (p) return [{ provider: p, model: q.model.slice(slash + 1) }];
    }
    if (defaultProvider) return [{ provider: defaultProvider, model: q.model }];
    return [];
  }

  return {
    resolve(q) {
      const first = primary(q);
      if (first.length === 0 || tables.strategy !== "fallback") return first;
      const used = new Set(first.map((t) => t.provider.id));
      const out = first.slice();
      for (const id of tables.chain) {
        const p = byId.get(id);
        if (!p || used.has(id)) continue;
        used.add(id);
        out.push({ provider: p, model: modelFor(p, q.model) });
      }
      return out;
    },
    models() {
      const out: { id: string; provider: P }[] = [];
      for (const [id, ps] of byModel) out.push({ id, provider: ps[0]! });
      for (const [name, targets] of Object.entries(tables.aliases)) {
        const p = targets[0] && byId.get(targets[0].provider);
        if (p) out.push({ id: name, provider: p });
      }
      return out;
    },
  };
}
