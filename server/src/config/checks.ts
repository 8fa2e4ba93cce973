// Checks that span fields or sections, or look outside the file (TLS files on disk). Each takes
// only the sections it needs, so it can run even when an unrelated section failed validation.
import { accessSync, constants, statSync } from "node:fs";
import { references } from "./issues.js";
import { formatPath } from "./path.js";
import type { FileConfig } from "./schema.js";
import { PROVIDER_NAME } from "./values.js";

/** Formatted path → variables its value came from (see ./interpolate.ts). */
type Sources = Map<string, string[]>;

const NEEDS_API_KEY = new Set(["openai", "anthropic", "google"]);

export function checkProviders(providers: NonNullable<FileConfig["providers"]>): string[] {
  const problems: string[] = [];
  let defaultName: string | undefined;
  for (const [name, p] of Object.entries(providers)) {
    if (!PROVIDER_NAME.test(name)) {
      problems.push(`${formatPath(["providers", name])}: name must be 1-63 letters, digits, '.', '_' or '-'`);
    }
    if (NEEDS_API_KEY.has(p.type) && p.apiKey === undefined) {
      problems.push(`${formatPath(["providers", name, "apiKey"])}: required for type ${p.type}`);
    }
    if (p.default) {
      if (defaultName === undefined) defaultName = name;
      else
        problems.push(
          `${formatPath(["providers", name, "default"])}: only one provider may be the default (${defaultName} is)`,
        );
    }
  }
  return problems;
}

/**
 * Routing may only name providers the file declares. A file with no providers section leaves the
 * names to providers created through the Admin API, which the loader cannot see.
 */
export function checkRouting(
  routing: FileConfig["routing"],
  declared: Set<string> | undefined,
  sources: Sources,
): string[] {
  const problems: string[] = [];
  const ref = (path: string, name: string) => {
    if (declared && !declared.has(name))
      problems.push(`${path}: no provider named ${shown(sources, path, name)}`);
  };
  const seen = new Set<string>();
  routing.chain.forEach((name, i) => {
    const path = `routing.chain[${i}]`;
    ref(path, name);
    if (seen.has(name)) problems.push(`${path}: ${shown(sources, path, name)} is already in the chain`);
    seen.add(name);
  });
  routing.rules.forEach((rule, i) => ref(`routing.rules[${i}].provider`, rule.provider));
  for (const [alias, targets] of Object.entries(routing.aliases)) {
    targets.forEach((t, i) => ref(formatPath(["routing", "aliases", alias, i, "provider"]), t.provider));
  }
  if (routing.retry.baseDelayMs > routing.retry.maxDelayMs) {
    problems.push("routing.retry.maxDelayMs: must be at least baseDelayMs");
  }
  return problems;
}

/** Token names must be unique per list; a token value may not be reused anywhere. */
export function checkTokens(
  auth: FileConfig["auth"] | undefined,
  admin: FileConfig["admin"] | undefined,
  sources: Sources,
): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  const lists: [string, { name: string; token: string }[]][] = [
    ["auth.tokens", auth?.tokens ?? []],
    ["admin.tokens", admin?.tokens ?? []],
  ];
  for (const [path, tokens] of lists) {
    const names = new Map<string, number>();
    tokens.forEach(({ name, token }, i) => {
      const first = names.get(name);
      const at = `${path}[${i}].name`;
      if (first !== undefined) {
        problems.push(`${at}: ${shown(sources, at, name)} is already used by ${path}[${first}]`);
      } else names.set(name, i);
      const owner = owners.get(token);
      // Only paths here: the token itself is a secret.
      if (owner !== undefined) problems.push(`${path}[${i}].token: same token as ${owner}`);
      else owners.set(token, `${path}[${i}]`);
    });
  }
  return problems;
}

export function checkTls(tls: FileConfig["tls"], sources: Sources, checkFiles: boolean): string[] {
  if (!tls.enabled) return [];
  const problems: string[] = [];
  for (const field of ["cert", "key"] as const) {
    const file = tls[field];
    const path = `tls.${field}`;
    if (file === undefined) {
      problems.push(`${path}: required when tls.enabled is true`);
      continue;
    }
    if (!checkFiles) continue;
    const cause = unreadable(file);
    if (!cause) continue;
    // A path that came from a variable is described by the variable, in keeping with never echoing
    // resolved values.
    const vars = sources.get(path);
    problems.push(
      vars ? `${path}: ${cause} (path from \${${vars.join("}, ${")}})` : `${path}: ${cause}: ${file}`,
    );
  }
  return problems;
}

export function checkUsage(usage: FileConfig["usage"]): string[] {
  return usage.batchSize > usage.queueLimit ? ["usage.batchSize: must be at most queueLimit"] : [];
}

function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return "not a file";
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? "file not found"
      : code === "EACCES"
        ? "not readable"
        : `cannot read (${code})`;
  }
}

/** A value for a message, unless it came from variables: resolved values are never echoed. */
function shown(sources: Sources, path: string, value: string): string {
  const vars = sources.get(path);
  return vars ? references(vars) : value;
}
