// gwctl limits: set rate limits and budgets on an instance or key, and show their live status.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import {
  BudgetSchema,
  GetLimitStatusResponseSchema,
  RateLimitSchema,
  UpdateInstanceResponseSchema,
  UpdateKeyResponseSchema,
  type Budget,
  type RateLimit,
} from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { about, UsageError } from "../errors.js";
import { count, NONE, time, usd } from "../format.js";
import { printDetails, printJson, printTable, say } from "../output.js";
import { collectBudget, parseLimit, type BudgetWindowWord } from "../parse.js";
import { budgetsText, RATE_FIELDS, rateLimitText, WINDOW_OF, windowWord } from "../views.js";

interface Target {
  instance?: string;
  key?: string;
}

interface SetFlags extends Target {
  rpm?: bigint;
  tpm?: bigint;
  tokensPerHour?: bigint;
  tokensPerDay?: bigint;
  concurrency?: bigint;
  budget?: { limitUsd: number; window: BudgetWindowWord }[];
  clear?: boolean;
}

const RATE_FLAG = {
  requestsPerMinute: "rpm",
  tokensPerMinute: "tpm",
  tokensPerHour: "tokensPerHour",
  tokensPerDay: "tokensPerDay",
  maxConcurrent: "concurrency",
} as const;

function target(flags: Target): { kind: "instance" | "key"; id: string } {
  if (flags.instance !== undefined && flags.key !== undefined) {
    throw new UsageError("give either --instance or --key, not both");
  }
  if (flags.instance !== undefined) return { kind: "instance", id: flags.instance };
  if (flags.key !== undefined) return { kind: "key", id: flags.key };
  throw new UsageError("give --instance ID or --key ID");
}

/** The new rate limit: the current one (unless --clear) with the given fields replaced. */
export function mergeRateLimit(current: RateLimit | undefined, flags: SetFlags): RateLimit {
  const out = create(RateLimitSchema, flags.clear ? {} : (current ?? {}));
  for (const { field } of RATE_FIELDS) {
    const v = flags[RATE_FLAG[field]];
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/** The new budgets: given windows replace the current ones of the same window; --clear drops the rest. */
export function mergeBudgets(current: readonly Budget[], flags: SetFlags): Budget[] {
  const given = (flags.budget ?? []).map((b) =>
    create(BudgetSchema, { window: WINDOW_OF[b.window], limitUsd: b.limitUsd }),
  );
  const kept = flags.clear ? [] : current.filter((c) => !given.some((g) => g.window === c.window));
  return [...kept, ...given];
}

function addTarget(cmd: Command): Command {
  return cmd.option("--instance <id>", "an instance's policy").option("--key <id>", "one key's limits");
}

export function registerLimits(program: Command): void {
  const limits = program.command("limits").description("rate limits and budgets");

  addTarget(
    limits.command("set").description("change limits; fields not given keep their value unless --clear"),
  )
    .option("--rpm <n>", "requests per minute", parseLimit)
    .option("--tpm <n>", "tokens per minute", parseLimit)
    .option("--tokens-per-hour <n>", "tokens per hour", parseLimit)
    .option("--tokens-per-day <n>", "tokens per day", parseLimit)
    .option("--concurrency <n>", "requests in flight at once", parseLimit)
    .option(
      "--budget <usd/window>",
      "spend cap, e.g. 5/day (windows day|week|month|total; repeatable)",
      collectBudget,
    )
    .option("--clear", "remove every limit not given in this command")
    .action(async (flags: SetFlags, cmd: Command) => {
      const t = target(flags);
      const rateGiven = Object.values(RATE_FLAG).some((f) => flags[f] !== undefined);
      const budgetGiven = (flags.budget ?? []).length > 0;
      if (!rateGiven && !budgetGiven && !flags.clear) {
        throw new UsageError(
          "limits set: nothing to change (give --rpm, --tpm, --tokens-per-hour, --tokens-per-day, --concurrency, --budget or --clear)",
        );
      }
      const ctx = contextOf(cmd);
      const client = ctx.client();
      const subject = `${t.kind} "${t.id}"`;
      // The masks below replace the whole rate limit / budget list, so start from the stored values.
      if (t.kind === "instance") {
        const cur = (await about(subject, client.getInstance({ id: t.id }))).instance;
        const paths = [
          ...(rateGiven || flags.clear ? ["policy.rate_limit"] : []),
          ...(budgetGiven || flags.clear ? ["policy.budgets"] : []),
        ];
        const res = await about(
          subject,
          client.updateInstance({
            instance: {
              id: t.id,
              policy: {
                allowedModels: cur?.policy?.allowedModels ?? [],
                rateLimit: mergeRateLimit(cur?.policy?.rateLimit, flags),
                budgets: mergeBudgets(cur?.policy?.budgets ?? [], flags),
              },
            },
            updateMask: create(FieldMaskSchema, { paths }),
          }),
        );
        if (ctx.output === "json") return printJson(UpdateInstanceResponseSchema, res);
        say(`updated limits of instance ${t.id}`);
        printDetails([
          ["rate limits", rateLimitText(res.instance?.policy?.rateLimit)],
          ["budgets", budgetsText(res.instance?.policy?.budgets ?? [])],
        ]);
        return;
      }
      const cur = (await about(subject, client.getKey({ id: t.id }))).key;
      const paths = [
        ...(rateGiven || flags.clear ? ["rate_limit"] : []),
        ...(budgetGiven || flags.clear ? ["budgets"] : []),
      ];
      const res = await about(
        subject,
        client.updateKey({
          key: {
            id: t.id,
            rateLimit: mergeRateLimit(cur?.rateLimit, flags),
            budgets: mergeBudgets(cur?.budgets ?? [], flags),
          },
          updateMask: create(FieldMaskSchema, { paths }),
        }),
      );
      if (ctx.output === "json") return printJson(UpdateKeyResponseSchema, res);
      say(`updated limits of key ${t.id}`);
      printDetails([
        ["rate limits", rateLimitText(res.key?.rateLimit)],
        ["budgets", budgetsText(res.key?.budgets ?? [])],
      ]);
    });

  addTarget(limits.command("get").description("limits in force, current use and spend")).action(
    async (flags: Target, cmd: Command) => {
      const t = target(flags);
      const ctx = contextOf(cmd);
      const res = await about(
        `${t.kind} "${t.id}"`,
        ctx.client().getLimitStatus(t.kind === "instance" ? { instanceId: t.id } : { keyId: t.id }),
      );
      if (ctx.output === "json") return printJson(GetLimitStatusResponseSchema, res);
      say(`counters: ${res.shared ? "shared across replicas (Redis)" : "local to the answering replica"}`);
      const rows =
        res.rateLimits.length > 0
          ? res.rateLimits.map((r) => [r.dimension, count(r.limit), count(r.used), time(r.resetsAt)])
          : RATE_FIELDS.flatMap(({ field, name }) => {
              const v = res.rateLimit?.[field];
              return v === undefined ? [] : [[name, count(v), NONE, NONE]];
            });
      printTable(["RATE LIMIT", "LIMIT", "USED", "RESETS AT"], rows, "(no rate limits)");
      say("");
      printTable(
        ["BUDGET", "LIMIT USD", "SPENT USD", "RESERVED USD", "RESETS AT"],
        res.budgets.map((b) => [
          b.budget ? windowWord(b.budget.window) : NONE,
          usd(b.budget?.limitUsd),
          usd(b.spentUsd),
          usd(b.reservedUsd),
          time(b.resetsAt),
        ]),
        "(no budgets)",
      );
    },
  );
}
