// gwctl routes / aliases: routing rules, the fallback chain and model aliases.
import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  AliasTargetSchema,
  CreateRouteResponseSchema,
  DeleteAliasResponseSchema,
  DeleteRouteResponseSchema,
  ListAliasesResponseSchema,
  ListRoutesResponseSchema,
  RouteSourceSchema,
  SetAliasResponseSchema,
  type Alias,
  type Route,
  type RouteMatch,
} from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { about, UsageError } from "../errors.js";
import { enumWord, list, NONE, text } from "../format.js";
import { printData, printDetails, printTable, printJson, say, toJsonValue } from "../output.js";
import { parseAliasTarget, parseLimit, parseNonNegativeInt } from "../parse.js";

export function matchText(m: RouteMatch | undefined): string {
  if (!m) return NONE;
  const parts = [
    ...(m.default ? ["default"] : []),
    ...(m.model ? [`model=${m.model}`] : []),
    ...(m.tag ? [`tag=${m.tag}`] : []),
    ...(m.maxTokens !== undefined ? [`max_tokens<=${m.maxTokens}`] : []),
  ];
  return parts.length === 0 ? NONE : parts.join(" ");
}

function targetsText(a: Alias): string {
  return a.targets.map((t) => `${t.providerId}/${t.model}${t.weight > 0 ? `:${t.weight}` : ""}`).join(" ");
}

function routeRow(r: Route): string[] {
  return [
    text(r.id),
    String(r.priority),
    matchText(r.match),
    r.providerId,
    text(r.model),
    enumWord(RouteSourceSchema, r.source),
  ];
}

interface AddFlags {
  provider: string;
  model?: string;
  priority?: number;
  maxTokens?: bigint;
  tag?: string;
  matchModel?: string;
  default?: boolean;
}

export function registerRoutes(program: Command): void {
  const routes = program.command("routes").description("routing rules (first match wins)");

  routes
    .command("list")
    .description("rules in evaluation order, the fallback chain, the default provider and aliases")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = ctx.client();
      const [r, a] = await Promise.all([client.listRoutes({}), client.listAliases({})]);
      if (ctx.output === "json") {
        // Two responses, one document: {"routes": ListRoutesResponse, "aliases": ListAliasesResponse}.
        return printData({
          routes: toJsonValue(ListRoutesResponseSchema, r),
          aliases: toJsonValue(ListAliasesResponseSchema, a),
        });
      }
      printTable(
        ["ID", "PRIORITY", "MATCH", "PROVIDER", "MODEL", "SOURCE"],
        r.routes.map(routeRow),
        "(no rules)",
      );
      say("");
      printDetails([
        ["strategy", text(r.strategy)],
        ["fallback chain", r.fallbackChain.length === 0 ? NONE : r.fallbackChain.join(" → ")],
        ["default provider", text(r.defaultProviderId)],
      ]);
      say("");
      printTable(
        ["ALIAS", "TARGETS", "SOURCE"],
        a.aliases.map((x) => [x.name, targetsText(x), enumWord(RouteSourceSchema, x.source)]),
        "(no aliases)",
      );
    });

  routes
    .command("add")
    .description("add a routing rule")
    .requiredOption("--provider <id>", "send matching requests to this provider")
    .option("--model <name>", "rewrite the model to this one")
    .option("--priority <n>", "lower runs first", parseNonNegativeInt)
    .option("--max-tokens <n>", "match requests asking for at most this many tokens", parseLimit)
    .option("--tag <tag>", "match requests with this tag")
    .option("--match-model <glob>", "match requested models against this glob")
    .option("--default", "match every request")
    .action(async (flags: AddFlags, cmd: Command) => {
      const hasMatch =
        flags.default ||
        flags.tag !== undefined ||
        flags.matchModel !== undefined ||
        flags.maxTokens !== undefined;
      if (!hasMatch)
        throw new UsageError(
          "routes add: give a condition (--match-model, --tag, --max-tokens or --default)",
        );
      const ctx = contextOf(cmd);
      const res = await about(
        `provider "${flags.provider}"`,
        ctx.client().createRoute({
          route: {
            providerId: flags.provider,
            model: flags.model ?? "",
            priority: flags.priority ?? 0,
            match: {
              default: flags.default ?? false,
              tag: flags.tag ?? "",
              model: flags.matchModel ?? "",
              ...(flags.maxTokens !== undefined ? { maxTokens: flags.maxTokens } : {}),
            },
          },
        }),
      );
      if (ctx.output === "json") return printJson(CreateRouteResponseSchema, res);
      say(`added route ${text(res.route?.id)}`);
      if (res.route)
        printTable(["ID", "PRIORITY", "MATCH", "PROVIDER", "MODEL", "SOURCE"], [routeRow(res.route)]);
    });

  routes
    .command("remove <id>")
    .description("remove a routing rule")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`route "${id}"`, ctx.client().deleteRoute({ id }));
      if (ctx.output === "json") return printJson(DeleteRouteResponseSchema, res);
      say(`removed route ${id}`);
    });

  const aliases = program.command("aliases").description("client-facing model names mapped to targets");

  aliases
    .command("list")
    .description("list aliases")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await ctx.client().listAliases({});
      if (ctx.output === "json") return printJson(ListAliasesResponseSchema, res);
      printTable(
        ["ALIAS", "TARGETS", "SOURCE"],
        res.aliases.map((x) => [x.name, targetsText(x), enumWord(RouteSourceSchema, x.source)]),
        "(no aliases)",
      );
    });

  aliases
    .command("set <name> <targets...>")
    .description("point an alias at provider/model[:weight] targets, in order")
    .action(async (name: string, targets: string[], _flags: unknown, cmd: Command) => {
      const parsed = targets.map((t) => create(AliasTargetSchema, parseAliasTarget(t)));
      const ctx = contextOf(cmd);
      const res = await about(`alias "${name}"`, ctx.client().setAlias({ alias: { name, targets: parsed } }));
      if (ctx.output === "json") return printJson(SetAliasResponseSchema, res);
      say(`alias ${name} → ${res.alias ? targetsText(res.alias) : list([])}`);
    });

  aliases
    .command("remove <name>")
    .description("remove an alias")
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`alias "${name}"`, ctx.client().deleteAlias({ name }));
      if (ctx.output === "json") return printJson(DeleteAliasResponseSchema, res);
      say(`removed alias ${name}`);
    });
}
