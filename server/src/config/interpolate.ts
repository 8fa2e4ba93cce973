// ${VAR} and ${VAR:-default} substitution in every string value of the parsed config tree.
// Working on the parsed tree (not the raw text) means a value can never inject JSON, and the
// result is not scanned again, so a resolved value cannot pull in another variable.
// "$${" stands for a literal "${".
import { formatPath } from "./path.js";

export interface Interpolated {
  value: unknown;
  problems: string[];
  /** Formatted path → variables it was built from; messages about these paths never show the value. */
  sources: Map<string, string[]>;
  /** Paths whose problem is already reported here, so validation should not report them again. */
  failed: Set<string>;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export function interpolate(root: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const out: Interpolated = { value: undefined, problems: [], sources: new Map(), failed: new Set() };
  out.value = walk(root, [], env, out);
  return out;
}

function walk(node: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, out: Interpolated): unknown {
  if (typeof node === "string") return node.includes("${") ? substitute(node, path, env, out) : node;
  if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i], env, out));
  if (node !== null && typeof node === "object") {
    // fromEntries defines own properties, so a "__proto__" key stays a plain (and rejected) key.
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, walk(value, [...path, key], env, out)]),
    );
  }
  return node;
}

function substitute(text: string, path: PropertyKey[], env: NodeJS.ProcessEnv, out: Interpolated): string {
  const where = formatPath(path);
  const used: string[] = [];
  const fail = (cause: string): string => {
    out.problems.push(`${where}: ${cause}`);
    out.failed.add(where);
    return "";
  };
  const result = text.replace(REFERENCE, (match, expression: string | undefined) => {
    if (match === "$${") return "${";
    if (expression === undefined) return fail("unterminated ${ (write ${NAME} or ${NAME:-default})");
    const parsed = EXPRESSION.exec(expression);
    const name = parsed?.[1];
    const fallback = parsed?.[2];
    if (!name || fallback?.includes("${")) {
      return fail("malformed ${...} reference (write ${NAME} or ${NAME:-default})");
    }
    used.push(name);
    const value = env[name];
    // Like the shell, ":-" also replaces an empty value.
    if (fallback !== undefined) return value ? value : fallback;
    if (value === undefined) return fail(`\${${name}} is not set`);
    return value;
  });
  if (used.length > 0) out.sources.set(where, used);
  return result;
}
