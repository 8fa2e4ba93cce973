// Turns zod issues into "path: cause" lines. Causes are written here rather than taken from zod,
// so they read the same everywhere and never include the offending value (it may be a secret).
import type { z } from "zod";
import { formatPath, valueAt } from "./path.js";

type Issue = z.core.$ZodIssue;

export const INTEGER = "must be an integer";

export interface IssueContext {
  /** Path prefix of the validated value, e.g. ["server"]. */
  prefix: PropertyKey[];
  /** The validated input, to tell a missing field from a wrong one. */
  input: unknown;
  /** Shown instead of the formatted prefix, e.g. "KEYGATE_PORT" or "--port". */
  label?: string;
  /** Formatted paths already reported (an unset ${VAR}); their follow-on issues are dropped. */
  failed?: Set<string>;
  /** Formatted path → variables its value came from, named in the message instead of the value. */
  sources?: Map<string, string[]>;
}

export function issuesToProblems(issues: readonly Issue[], ctx: IssueContext): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        problems.push(`${formatPath([...ctx.prefix, ...issue.path, key])}: unknown key`);
      continue;
    }
    const where =
      ctx.label && issue.path.length === 0 ? ctx.label : formatPath([...ctx.prefix, ...issue.path]);
    if (ctx.failed?.has(where)) continue;
    const vars = ctx.sources?.get(where);
    const from = vars ? ` (from ${references(vars)})` : "";
    problems.push(`${where}: ${cause(issue, valueAt(ctx.input, issue.path))}${from}`);
  }
  return problems;
}

function cause(issue: Issue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return "is required";
      // Integer fields set their own message, zod would only say "expected number".
      return issue.message === INTEGER ? INTEGER : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${String(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return bound(issue.origin, "at least", issue.minimum, issue.inclusive);
    case "too_big":
      return bound(issue.origin, "at most", issue.maximum, issue.inclusive);
    case "invalid_key":
      return issue.issues[0]?.message ?? "invalid key";
    default:
      // Custom checks (refine, regex, transforms) carry a message written in ./schema.ts.
      return issue.message;
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  tuple: "a list",
  object: "an object",
  record: "an object",
};

function bound(origin: string, relation: string, limit: number | bigint, inclusive = true): string {
  if (origin === "string")
    return limit === 1 && relation === "at least"
      ? "must not be empty"
      : `length must be ${relation} ${limit}`;
  if (origin === "array")
    return limit === 1 && relation === "at least"
      ? "must not be empty"
      : `must have ${relation} ${limit} entries`;
  if (inclusive) return `must be ${relation} ${limit}`;
  return relation === "at least" ? `must be greater than ${limit}` : `must be less than ${limit}`;
}

/** How a value built from variables is named in messages: "${A}, ${B}". */
export function references(vars: string[]): string {
  return vars.map((v) => `\${${v}}`).join(", ");
}
