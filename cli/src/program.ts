// The gwctl command tree.
import { Command, Option } from "commander";
import { registerAudit } from "./commands/audit.js";
import { registerInstances } from "./commands/instances.js";
import { registerKeys } from "./commands/keys.js";
import { registerLimits } from "./commands/limits.js";
import { registerProbe } from "./commands/probe.js";
import { registerProviders } from "./commands/providers.js";
import { registerRequests } from "./commands/requests.js";
import { registerRoutes } from "./commands/routes.js";
import { registerStatus } from "./commands/status.js";
import { registerTokens } from "./commands/tokens.js";
import { registerUsage } from "./commands/usage.js";
import { DEFAULT_SERVER } from "./context.js";
import { redact } from "./secrets.js";
import pkg from "../../package.json" with { type: "json" };

export interface ProgramIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Set once parsing is done and a command's action starts running. */
  onAction: () => void;
}

export function createProgram(io: ProgramIO): Command {
  const program = new Command("gwctl")
    .description("Operate a keygate gateway through its Admin API.")
    .version(pkg.version, "-V, --version")
    // Settings made before .command() are inherited by every subcommand.
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (message, write) => write(`gwctl: ${redact(message.replace(/^error: /, ""))}\n`),
    })
    .addOption(new Option("--server <url>", "gateway base URL").env("KEYGATE_URL").default(DEFAULT_SERVER))
    .addOption(
      new Option(
        "--token <token>",
        "admin token (else KEYGATE_ADMIN_TOKEN, else <data dir>/admin.token)",
      ).env("KEYGATE_ADMIN_TOKEN"),
    )
    .addOption(
      new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"),
    )
    .hook("preAction", () => io.onAction());

  registerInstances(program);
  registerKeys(program);
  registerProviders(program);
  registerProbe(program);
  registerUsage(program);
  registerRequests(program);
  registerLimits(program);
  registerRoutes(program);
  registerAudit(program);
  registerTokens(program);
  registerStatus(program);
  return program;
}
