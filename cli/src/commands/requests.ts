// gwctl requests: recent request records, a live feed (--follow), and one record in full.
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Command } from "commander";
import {
  GetRequestResponseSchema,
  ListRequestsResponseSchema,
  WatchRequestsResponseSchema,
  type RequestRecord,
} from "../../../sdk/index.js";
import { contextOf, type Context } from "../context.js";
import { about, describeError, networkReason } from "../errors.js";
import { count, millis, NONE, text, time, usd, yesNo } from "../format.js";
import { notice, printDetails, printJson, printJsonLine, printTable, say } from "../output.js";
import { collectPages } from "../paging.js";
import { parsePositiveInt } from "../parse.js";

interface RequestsFlags {
  instance?: string;
  key?: string;
  model?: string;
  errors?: boolean;
  limit: number;
  follow?: boolean;
}

function statusCell(r: RequestRecord): string {
  return r.errorClass ? `${r.statusCode} ${r.errorClass}` : String(r.statusCode);
}

function costOf(r: RequestRecord): string {
  return r.costUsd === undefined ? "—" : usd(r.costUsd);
}

function modelCell(r: RequestRecord): string {
  return r.servedModel && r.servedModel !== r.requestedModel
    ? `${text(r.requestedModel)}→${r.servedModel}`
    : text(r.requestedModel);
}

const HEAD = ["TIME", "ID", "INSTANCE", "KEY", "PROVIDER", "MODEL", "STATUS", "IN", "OUT", "COST USD", "MS"];

function row(r: RequestRecord): string[] {
  return [
    time(r.time),
    r.id,
    text(r.instanceId),
    text(r.keyId),
    text(r.providerId),
    modelCell(r),
    statusCell(r),
    count(r.inputTokens),
    count(r.outputTokens),
    costOf(r),
    millis(r.latencyMs),
  ];
}

function filterOf(flags: RequestsFlags) {
  return {
    instanceIds: flags.instance ? [flags.instance] : [],
    keyIds: flags.key ? [flags.key] : [],
    providerIds: [],
    models: flags.model ? [flags.model] : [],
  };
}

/** Waits between attempts to resume an interrupted feed: 0.5, 1 and 2 s, then 5 s each time. */
const RESUME_DELAYS_MS = [500, 1_000, 2_000, 5_000];

/**
 * Whether a feed that was live ended in a way another attempt may fix: the gateway shutting down
 * (a rolling deploy; behind a load balancer the next attempt reaches another replica), or the
 * connection failing.
 */
function interrupted(err: unknown): boolean {
  if (networkReason(err) !== undefined) return true;
  return err instanceof ConnectError && err.code === Code.Unavailable;
}

async function follow(ctx: Context, flags: RequestsFlags): Promise<void> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // Set once the feed has been live: a feed that never started reports its error and exits.
  let wasLive = false;
  let failures = 0;
  try {
    for (;;) {
      try {
        const stream = ctx
          .client()
          .watchRequests(
            { filter: filterOf(flags), statuses: flags.errors ? ["4xx", "5xx"] : [] },
            { signal: abort.signal },
          );
        for await (const msg of stream) {
          // missed = 0 only confirms that the subscription is live.
          if (msg.event.case === "missed" && msg.event.value === 0n) {
            if (failures > 0)
              notice("feed resumed; requests completed meanwhile are listed by `gwctl requests`");
            wasLive = true;
            failures = 0;
            continue;
          }
          if (ctx.output === "json") {
            printJsonLine(WatchRequestsResponseSchema, msg);
            continue;
          }
          if (msg.event.case === "record") say(row(msg.event.value).join("  "));
          else if (msg.event.case === "missed")
            say(`… ${msg.event.value} records missed (this feed read too slowly)`);
        }
        throw new ConnectError("the gateway ended the feed", Code.Unavailable);
      } catch (err) {
        // Ctrl-C ends the feed normally.
        if (abort.signal.aborted) return;
        if (!wasLive || !interrupted(err)) throw err;
        const wait = RESUME_DELAYS_MS[Math.min(failures, RESUME_DELAYS_MS.length - 1)]!;
        if (failures === 0) notice(`feed interrupted (${describeError(err, ctx.server)}); reconnecting`);
        failures++;
        // Ctrl-C during the wait ends it at once.
        await sleep(wait, undefined, { signal: abort.signal }).catch(() => undefined);
        if (abort.signal.aborted) return;
      }
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

export function registerRequests(program: Command): void {
  const requests = program
    .command("requests")
    .description("recent requests, newest first (or --follow for a live feed)")
    .option("--instance <id>", "only this instance's requests")
    .option("--key <id>", "only this key's requests")
    .option("--model <name>", "only requests for this model")
    .option("--errors", "only failed requests")
    .option("--limit <n>", "at most this many", parsePositiveInt, 50)
    .option(
      "--follow",
      "print each request as it completes, until interrupted (reconnects when the gateway restarts)",
    )
    .action(async (flags: RequestsFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (flags.follow) return follow(ctx, flags);
      const client = ctx.client();
      const page = await collectPages(
        async (pageToken, pageSize) => {
          const res = await client.listRequests({
            pageToken,
            pageSize,
            filter: filterOf(flags),
            errorsOnly: flags.errors ?? false,
          });
          return { items: res.requests, next: res.nextPageToken };
        },
        { limit: flags.limit },
      );
      if (ctx.output === "json") {
        return printJson(
          ListRequestsResponseSchema,
          create(ListRequestsResponseSchema, { requests: page.items, nextPageToken: page.next }),
        );
      }
      printTable(HEAD, page.items.map(row), "(no requests)");
    });

  requests
    .command("get <id>")
    .description("one request in full, with captured bodies when kept")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`request "${id}"`, ctx.client().getRequest({ id }));
      if (ctx.output === "json") return printJson(GetRequestResponseSchema, res);
      const r = res.request;
      if (!r) return;
      printDetails([
        ["id", r.id],
        ["time", time(r.time)],
        ["instance", text(r.instanceId)],
        ["key", text(r.keyId)],
        ["api", text(r.api)],
        ["provider", text(r.providerId)],
        ["requested model", text(r.requestedModel)],
        ["served model", text(r.servedModel)],
        ["status", statusCell(r)],
        ["stream", yesNo(r.stream)],
        ["fallback", yesNo(r.fallback)],
        ["input tokens", count(r.inputTokens)],
        ["output tokens", count(r.outputTokens)],
        ["cache read tokens", count(r.cacheReadTokens)],
        ["cache write tokens", count(r.cacheWriteTokens)],
        ["cost usd", costOf(r)],
        ["latency ms", millis(r.latencyMs)],
        ["first byte ms", r.ttfbMs === undefined ? NONE : millis(r.ttfbMs)],
        ["client ip", text(r.clientIp)],
        ["user agent", text(r.userAgent)],
        ["replica", text(r.replicaId)],
      ]);
      if (r.attempts.length > 0) {
        say("");
        say("attempts:");
        printTable(
          ["PROVIDER", "MODEL", "STATUS", "MS", "ERROR"],
          r.attempts.map((a) => [
            a.providerId,
            text(a.model),
            String(a.statusCode),
            millis(a.latencyMs),
            text(a.errorClass),
          ]),
        );
      }
      if (r.capture) {
        say("");
        say(`request body${r.capture.truncated ? " (truncated)" : ""}:`);
        say(r.capture.requestBody || NONE);
        say("");
        say("response body:");
        say(r.capture.responseBody || NONE);
      }
    });
}
