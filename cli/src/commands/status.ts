// gwctl status (the Admin API's view of the gateway) and health (plain HTTP probes).
import type { Command } from "commander";
import { GetStatusResponseSchema, type DependencyStatus } from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { Failure } from "../errors.js";
import { count, span, text, time, yesNo } from "../format.js";
import { printData, printDetails, printJson, say } from "../output.js";
import { roleWord } from "../views.js";

function dependency(d: DependencyStatus | undefined): string {
  if (!d) return "-";
  if (!d.configured && d.kind !== "pglite") return d.kind ? `${d.kind} (not configured)` : "not configured";
  const state = d.ok ? "ok" : `DOWN${d.message ? `: ${d.message}` : ""}`;
  return `${text(d.kind)} ${state}`;
}

interface Probe {
  path: string;
  status: number;
  ok: boolean;
  body: unknown;
}

const HEALTH_TIMEOUT_MS = 5000;

async function probe(server: string, path: string): Promise<Probe> {
  const res = await fetch(`${server}${path}`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
  const raw = await res.text();
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: keep the text
  }
  return { path, status: res.status, ok: res.ok, body };
}

function bodyLine(body: unknown): string {
  const s = typeof body === "string" ? body.trim() : JSON.stringify(body);
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("version, replica, uptime and the state of the database, Redis and the usage queue")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await ctx.client().getStatus({});
      if (ctx.output === "json") return printJson(GetStatusResponseSchema, res);
      printDetails([
        ["server", ctx.server],
        ["version", text(res.version)],
        ["replica", text(res.replicaId)],
        ["started", time(res.startTime)],
        ["uptime", span(res.uptimeSeconds)],
        ["database", dependency(res.database)],
        ["redis", dependency(res.redis)],
        ["usage queue", count(res.usageQueueDepth)],
        ["usage buffered", count(res.usageBuffered)],
        ["notifications", res.notificationsConnected ? "connected" : "DISCONNECTED"],
        ["you", `${text(res.callerName)} (${roleWord(res.callerRole)})`],
      ]);
    });

  program
    .command("health")
    .description("GET /healthz and /readyz (no token needed); exits 1 when not ready")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const [live, ready] = await Promise.all([probe(ctx.server, "/healthz"), probe(ctx.server, "/readyz")]);
      if (ctx.output === "json") {
        printData({ healthz: live, readyz: ready, ready: ready.ok });
      } else {
        for (const p of [live, ready])
          say(`${p.path.slice(1)}: ${p.status} ${p.ok ? "ok" : "FAIL"}  ${bodyLine(p.body)}`);
        say(`ready: ${yesNo(ready.ok)}`);
      }
      if (!ready.ok) throw new Failure(`not ready (${ctx.server}/readyz answered ${ready.status})`);
    });
}
