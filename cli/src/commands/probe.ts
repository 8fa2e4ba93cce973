// gwctl probe: one cheap authenticated call to each provider.
import type { Command } from "commander";
import { ProbeProvidersResponseSchema } from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { Failure } from "../errors.js";
import { clip, millis, text } from "../format.js";
import { printJson, printTable } from "../output.js";

export function registerProbe(program: Command): void {
  program
    .command("probe [providers...]")
    .description("check each provider (all when none is named); exits 1 if any probe fails")
    .action(async (ids: string[], _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await ctx.client().probeProviders({ providerIds: ids });
      if (ctx.output === "json") printJson(ProbeProvidersResponseSchema, res);
      else {
        printTable(
          ["PROVIDER", "OK", "LATENCY MS", "STATUS", "MESSAGE"],
          res.results.map((r) => [
            r.providerId,
            r.ok ? "ok" : "FAIL",
            millis(r.latencyMs),
            r.statusCode ? String(r.statusCode) : "-",
            clip(text(r.message), 80),
          ]),
          "(no providers)",
        );
      }
      const failed = res.results.filter((r) => !r.ok).map((r) => r.providerId);
      if (failed.length > 0) throw new Failure(`probe failed for ${failed.join(", ")}`);
    });
}
