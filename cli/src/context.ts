// Global flags (--server, --token, --output) and the Admin API client built from them.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { createAdminClient, type AdminClient } from "../../sdk/index.js";
import { UsageError } from "./errors.js";
import type { Format } from "./output.js";
import { rememberSecret } from "./secrets.js";

export const DEFAULT_SERVER = "http://127.0.0.1:8484";

export interface GlobalFlags {
  server?: string;
  token?: string;
  output?: Format;
}

export interface Context {
  /** The gateway's base URL, without credentials or trailing slash. */
  server: string;
  output: Format;
  client(): AdminClient;
}

/** The local data directory, where the gateway keeps admin.token on first start. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.KEYGATE_DATA_DIR || ".keygate");
}

/** --token, else KEYGATE_ADMIN_TOKEN (commander fills both into `flags.token`), else <data dir>/admin.token. */
export function resolveToken(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = flags.token?.trim();
  if (given) return given;
  const file = join(dataDir(env), "admin.token");
  if (!existsSync(file)) return undefined;
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Validates --server and returns its normalised form. */
export function serverUrl(flags: GlobalFlags): string {
  const raw = flags.server?.trim() || DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server: "${raw}" is not a URL (e.g. ${DEFAULT_SERVER})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--server: "${raw}" must be an http:// or https:// URL`);
  }
  // Credentials embedded in the URL must never be echoed in messages.
  url.username = "";
  url.password = "";
  return url.toString().replace(/\/+$/, "");
}

export function contextOf(cmd: Command): Context {
  const flags = cmd.optsWithGlobals<GlobalFlags>();
  const server = serverUrl(flags);
  let client: AdminClient | undefined;
  return {
    server,
    output: flags.output ?? "table",
    client() {
      if (client) return client;
      const token = resolveToken(flags);
      if (!token) {
        throw new UsageError(
          `no admin token: pass --token, set KEYGATE_ADMIN_TOKEN, or run where ${join(dataDir(), "admin.token")} exists`,
        );
      }
      rememberSecret(token);
      client = createAdminClient({ baseUrl: server, token });
      return client;
    },
  };
}
