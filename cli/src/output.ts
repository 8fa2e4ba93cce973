// Writes results to stdout as aligned tables or as proto3 JSON.
import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import Table from "cli-table3";
import { redact } from "./secrets.js";

export type Format = "table" | "json";

// A borderless table: columns aligned by padding only, easy to read and to grep.
const PLAIN = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A plain line of text. */
export function say(line: string): void {
  write(line);
}

/** A status line on stderr, so stdout keeps only data (one JSON line per record with --output json). */
export function notice(line: string): void {
  process.stderr.write(`gwctl: ${redact(line)}\n`);
}

/** The response message as proto3 JSON, all fields present, so scripts can rely on the shape. */
export function toJsonValue<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): unknown {
  return toJson(schema, message, { alwaysEmitImplicit: true });
}

export function printJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  write(JSON.stringify(toJsonValue(schema, message), null, 2));
}

/** One JSON object on one line (streams). */
export function printJsonLine<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  write(JSON.stringify(toJsonValue(schema, message)));
}

/** Plain data that is not a protobuf message (e.g. health checks). */
export function printData(value: unknown): void {
  write(JSON.stringify(value, null, 2));
}

function render(head: string[] | undefined, rows: string[][]): string {
  const table = new Table({
    ...(head ? { head } : {}),
    chars: PLAIN,
    style: { head: [], border: [], compact: true, "padding-left": 0, "padding-right": 0 },
  });
  // Table cells are the one place server-provided text lands verbatim; keep each on one line.
  for (const row of rows) table.push(row.map((cell) => redact(cell)));
  return table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .join("\n");
}

export function printTable(head: string[], rows: string[][], empty = "(none)"): void {
  if (rows.length === 0) {
    write(head.join("  "));
    write(empty);
    return;
  }
  write(render(head, rows));
}

/** A record shown as `field  value` lines. */
export function printDetails(pairs: [string, string][]): void {
  write(render(undefined, pairs));
}
