// Reads the JSON config file. Parse errors name the file, line and column, but never quote the
// file's text: it may hold literal credentials.
import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.js";

const FS_CAUSES: Record<string, string> = {
  ENOENT: "file not found",
  EACCES: "permission denied",
  EISDIR: "is a directory",
};

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const problem = `${file}: cannot read config file: ${FS_CAUSES[code] ?? (code || "read failed")}`;
    throw new ConfigError(problem, [problem]);
  }
  // Editors on Windows may prepend a byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    const { line, column } = lineAndColumn(text, errorPosition(text, message));
    const problem = `${file}:${line}:${column}: not valid JSON: ${describe(message)}`;
    throw new ConfigError(problem, [problem]);
  }
}

/** Offset of the offending character, from V8's "at position N" when present. */
function errorPosition(text: string, message: string): number {
  const match = / at position (\d+)/.exec(message);
  if (match) return Number(match[1]);
  if (message.startsWith("Unexpected end of JSON input")) return text.length;
  return firstBadOffset(text);
}

/**
 * Some V8 messages ("Unexpected token 'x', ... is not valid JSON") carry no position. A prefix of
 * the text fails before its end exactly when it contains the offending character, so a binary
 * search over prefix lengths finds it.
 */
function firstBadOffset(text: string): number {
  let low = 1;
  let high = text.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (failsWithin(text.slice(0, mid))) high = mid;
    else low = mid + 1;
  }
  return low - 1;
}

/** True when parsing the prefix fails before reaching its end (not merely for want of more input). */
function failsWithin(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    const position = / at position (\d+)/.exec(message);
    if (position) return Number(position[1]) < prefix.length;
    return !message.startsWith("Unexpected end of JSON input");
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

/** V8's reason without the quoted snippet of the input. */
function describe(message: string): string {
  const positioned = /^(.*?) in JSON at position \d+/.exec(message);
  if (positioned?.[1]) return positioned[1];
  const token = /^(Unexpected token '.+?'),/.exec(message);
  if (token?.[1]) return token[1];
  if (message.startsWith("Unexpected end of JSON input")) return "unexpected end of input";
  return "syntax error";
}
