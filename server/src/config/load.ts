// Loads the configuration: JSON file (optional) → ${ENV} interpolation → validation of every
// section → environment and command-line overrides → cross-checks. Every problem found is
// reported at once, in a single ConfigError.
import type { z } from "zod";
import { buildConfig } from "./build.js";
import { checkProviders, checkRouting, checkTls, checkTokens, checkUsage } from "./checks.js";
import { ConfigError } from "./errors.js";
import { readEnvSettings, type Overrides } from "./env.js";
import { interpolate } from "./interpolate.js";
import { issuesToProblems } from "./issues.js";
import { readConfigFile } from "./read.js";
import { SECTIONS, type FileConfig, type SectionName } from "./schema.js";
import type { KeygateConfig } from "./types.js";

export { ConfigError } from "./errors.js";

export interface LoadConfigOptions {
  /** Path of the JSON config file; defaults to env.KEYGATE_CONFIG; none means built-in defaults. */
  file?: string;
  env: NodeJS.ProcessEnv;
  /** From command-line flags; they win over everything else. */
  overrides?: Overrides;
  /** Also check that files the config points at (TLS certificate and key) exist and are readable. */
  checkFiles?: boolean;
}

export function loadConfig(opts: LoadConfigOptions): KeygateConfig {
  const file = opts.file || opts.env.KEYGATE_CONFIG || undefined;
  const raw = file === undefined ? {} : readConfigFile(file);
  const { value, problems, sources, failed } = interpolate(raw, opts.env);

  const sections: Partial<FileConfig> = {};
  let declaresProviders = false;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push("(root): must be an object");
  } else {
    const root = value as Record<string, unknown>;
    declaresProviders = root.providers !== undefined;
    const unknown = Object.keys(root).filter((name) => !Object.hasOwn(SECTIONS, name));
    problems.push(...unknown.map((name) => `${name}: unknown section`));
    for (const name of Object.keys(SECTIONS) as SectionName[]) {
      parseSection(name, root[name], sections, problems, { failed, sources });
    }
  }

  const { settings, problems: envProblems } = readEnvSettings(opts.env, opts.overrides);
  problems.push(...envProblems);

  const { providers, routing, auth, admin, tls, usage } = sections;
  if (providers) problems.push(...checkProviders(providers));
  // Reference checks need the provider names, so they wait until that section is valid.
  if (routing && (providers !== undefined || !declaresProviders)) {
    problems.push(...checkRouting(routing, providers ? new Set(Object.keys(providers)) : undefined, sources));
  }
  problems.push(...checkTokens(auth, admin, sources));
  // Whether the certificate files exist is a property of the machine, not of the document:
  // `keygate serve` asks for it; loading a config elsewhere (validation, tests) does not.
  if (tls) problems.push(...checkTls(tls, sources, opts.checkFiles ?? false));
  if (usage) problems.push(...checkUsage(usage));

  if (problems.length > 0) {
    const header = file === undefined ? "invalid configuration:" : `invalid config file ${file}:`;
    throw new ConfigError([header, ...problems.map((p) => `  ${p}`)].join("\n"), problems);
  }
  return buildConfig(sections as FileConfig, settings);
}

function parseSection<K extends SectionName>(
  name: K,
  input: unknown,
  into: Partial<FileConfig>,
  problems: string[],
  ctx: { failed: Set<string>; sources: Map<string, string[]> },
): void {
  // TypeScript cannot relate SECTIONS[K] to its own output type for a generic K.
  const schema = SECTIONS[name] as unknown as z.ZodType<FileConfig[K]>;
  const result = schema.safeParse(input);
  if (result.success) into[name] = result.data;
  else problems.push(...issuesToProblems(result.error.issues, { prefix: [name], input, ...ctx }));
}
