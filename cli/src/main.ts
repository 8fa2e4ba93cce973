// gwctl entry point: runs one command and turns every failure into one line on stderr.
// Exit codes: 0 success, 1 failure (server said no, unreachable, not ready), 2 usage error.
import { CommanderError } from "commander";
import { serverUrl, type GlobalFlags } from "./context.js";
import { describeError, UsageError } from "./errors.js";
import { createProgram } from "./program.js";
import { redact, rememberSecret } from "./secrets.js";

// Commander's own codes for --help and --version, which are successes.
const INFO_CODES = new Set(["commander.helpDisplayed", "commander.version"]);

function fail(message: string): void {
  process.stderr.write(`gwctl: ${redact(message)}\n`);
}

/** Raw values of the named flags, in both `--flag value` and `--flag=value` forms. */
function flagValues(argv: string[], names: string[]): string[] {
  const values: string[] = [];
  argv.forEach((arg, i) => {
    for (const name of names) {
      if (arg === name && argv[i + 1] !== undefined) values.push(argv[i + 1] ?? "");
      else if (arg.startsWith(`${name}=`)) values.push(arg.slice(name.length + 1));
    }
  });
  return values;
}

export async function run(argv: string[]): Promise<number> {
  let inAction = false;
  const program = createProgram({
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    onAction: () => {
      inAction = true;
    },
  });
  // Known before anything can fail, so no message (not even a parse error) can echo them.
  rememberSecret(process.env.KEYGATE_ADMIN_TOKEN);
  for (const value of flagValues(argv, ["--token", "--credential"])) rememberSecret(value);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (INFO_CODES.has(err.code)) return 0;
      // During parsing commander has already printed the message; from inside an action it has not.
      if (inAction) fail(err.message.replace(/^error: /, ""));
      return 2;
    }
    if (err instanceof UsageError) {
      fail(err.message);
      return 2;
    }
    const flags = program.opts<GlobalFlags>();
    rememberSecret(flags.token);
    let server: string;
    try {
      server = serverUrl(flags);
    } catch {
      server = "the server";
    }
    fail(describeError(err, server));
    return 1;
  }
}

// A reader that stops early (`gwctl ... | head`) is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

// Let stdout drain before exiting: large JSON documents must reach a pipe whole.
process.exitCode = await run(process.argv.slice(2));
