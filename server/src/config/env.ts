// Settings taken from environment variables and command-line overrides, which win over the file.
// Each is validated on its own so a bad value is reported under the variable's (or flag's) name.
import type { z } from "zod";
import { issuesToProblems } from "./issues.js";
import { logLevel, masterKey, port, postgresUrl, redisUrl, text, workers } from "./schema.js";
import type { KeygateConfig } from "./types.js";

export interface Overrides {
  port?: number;
  host?: string;
  workers?: number;
}

export interface EnvSettings {
  host?: string;
  port?: number;
  workers?: number;
  databaseUrl?: string;
  dataDir?: string;
  redisUrl?: string;
  adminToken?: string;
  masterKey?: string;
  logLevel?: KeygateConfig["logging"]["level"];
}

/** Integers from the environment: anything but plain digits becomes NaN and fails as "an integer". */
const integer = (value: string): number => (/^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN);
const same = (value: string): string => value;

export function readEnvSettings(
  env: NodeJS.ProcessEnv,
  overrides: Overrides = {},
): { settings: EnvSettings; problems: string[] } {
  const problems: string[] = [];

  /** An empty variable counts as unset, as container runtimes often pass "VAR=" for "no value". */
  function fromEnv<S extends z.ZodType, T>(name: string, schema: S, convert: (v: string) => T) {
    const raw = env[name];
    return raw === undefined || raw === "" ? undefined : check(name, schema, convert(raw));
  }
  function check<S extends z.ZodType>(name: string, schema: S, value: unknown): z.output<S> | undefined {
    if (value === undefined) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    problems.push(...issuesToProblems(result.error.issues, { prefix: [], label: name, input: value }));
    return undefined;
  }

  const settings: EnvSettings = {
    host: check("--host", text, overrides.host) ?? fromEnv("KEYGATE_HOST", text, same),
    port: check("--port", port, overrides.port) ?? fromEnv("KEYGATE_PORT", port, integer),
    workers: check("--workers", workers, overrides.workers) ?? fromEnv("KEYGATE_WORKERS", workers, integer),
    databaseUrl: fromEnv("DATABASE_URL", postgresUrl, same),
    dataDir: fromEnv("KEYGATE_DATA_DIR", text, same),
    redisUrl: fromEnv("REDIS_URL", redisUrl, same),
    adminToken: fromEnv("KEYGATE_ADMIN_TOKEN", text, same),
    masterKey: fromEnv("KEYGATE_MASTER_KEY", masterKey, same),
    logLevel: fromEnv("KEYGATE_LOG_LEVEL", logLevel, same),
  };
  return { settings, problems };
}
