// gwctl tokens: named admin tokens with a role.
import type { Command } from "commander";
import {
  AdminRole,
  CreateAdminTokenResponseSchema,
  DeleteAdminTokenResponseSchema,
  ListAdminTokensResponseSchema,
} from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { about } from "../errors.js";
import { text, time } from "../format.js";
import { printJson, printTable, say } from "../output.js";
import { oneOf } from "../parse.js";
import { roleWord } from "../views.js";

const ROLES = ["admin", "operator", "viewer"] as const;
const ROLE: Record<(typeof ROLES)[number], AdminRole> = {
  admin: AdminRole.ADMIN,
  operator: AdminRole.OPERATOR,
  viewer: AdminRole.VIEWER,
};

export function registerTokens(program: Command): void {
  const tokens = program
    .command("tokens")
    .description("admin tokens for the Admin API, gwctl and the dashboard");

  tokens
    .command("create <name>")
    .description("create an admin token (prints the secret once)")
    .requiredOption("--role <role>", "admin|operator|viewer", oneOf(ROLES))
    .action(async (name: string, flags: { role: (typeof ROLES)[number] }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(
        `token "${name}"`,
        ctx.client().createAdminToken({ name, role: ROLE[flags.role] }),
      );
      if (ctx.output === "json") return printJson(CreateAdminTokenResponseSchema, res);
      say(`secret: ${res.secret}`);
      say("Store this secret now: it is shown only once and cannot be retrieved again.");
      say(
        `token ${name} (${roleWord(res.token?.role ?? AdminRole.UNSPECIFIED)}), prefix ${text(res.token?.prefix)}`,
      );
    });

  tokens
    .command("list")
    .description("list admin tokens (never their secrets)")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await ctx.client().listAdminTokens({});
      if (ctx.output === "json") return printJson(ListAdminTokensResponseSchema, res);
      printTable(
        ["NAME", "ROLE", "PREFIX", "SOURCE", "CREATED"],
        res.tokens.map((t) => [t.name, roleWord(t.role), text(t.prefix), text(t.source), time(t.createTime)]),
        "(no tokens)",
      );
    });

  tokens
    .command("delete <name>")
    .description("delete an admin token")
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`token "${name}"`, ctx.client().deleteAdminToken({ name }));
      if (ctx.output === "json") return printJson(DeleteAdminTokenResponseSchema, res);
      say(`deleted token ${name}`);
    });
}
