// gwctl audit: who changed what, newest first.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import { ListAuditEventsResponseSchema } from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { clip, text, time } from "../format.js";
import { printJson, printTable, say } from "../output.js";
import { collectPages } from "../paging.js";
import { parseInstant, parsePositiveInt } from "../parse.js";
import { roleWord } from "../views.js";

interface AuditFlags {
  actor?: string;
  action?: string;
  since?: Date;
  limit: number;
}

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("admin actions, newest first")
    .option("--actor <name>", "only this admin token's actions")
    .option("--action <prefix>", 'only actions starting with this (e.g. "key." or key.revoke)')
    .option("--since <when>", "a duration ago (24h) or RFC 3339 time", (v: string) => parseInstant(v))
    .option("--limit <n>", "at most this many", parsePositiveInt, 50)
    .action(async (flags: AuditFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = ctx.client();
      const page = await collectPages(
        async (pageToken, pageSize) => {
          const res = await client.listAuditEvents({
            pageToken,
            pageSize,
            actor: flags.actor ?? "",
            action: flags.action ?? "",
            ...(flags.since ? { startTime: timestampFromDate(flags.since) } : {}),
          });
          return { items: res.events, next: res.nextPageToken };
        },
        { limit: flags.limit },
      );
      if (ctx.output === "json") {
        return printJson(
          ListAuditEventsResponseSchema,
          create(ListAuditEventsResponseSchema, { events: page.items, nextPageToken: page.next }),
        );
      }
      printTable(
        ["TIME", "ACTOR", "ROLE", "ACTION", "RESOURCE", "CLIENT IP", "DETAILS"],
        page.items.map((e) => [
          time(e.time),
          text(e.actor),
          roleWord(e.actorRole),
          e.action,
          text(e.resource),
          text(e.clientIp),
          clip(text(e.detailsJson), 60),
        ]),
        "(no events)",
      );
      if (page.next) say(`(more events: raise --limit)`);
    });
}
