// A GitHub-flavoured markdown table, padded so it also reads well in a terminal.

const cell = (s: string): string => s.replace(/\|/g, "\\|");

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]): string =>
    `| ${widths.map((w, i) => (r[i] ?? "").padEnd(w)).join(" | ")} |`;
  const [head, ...body] = all;
  return [line(head!), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...body.map(line)].join("\n");
}
