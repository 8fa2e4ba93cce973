// A strict reader of the Prometheus text exposition format (version 0.0.4), so the tests check
// what a real scraper would accept: every line is `# HELP`, `# TYPE`, another comment, empty, or a
// sample `name{label="value",...} value [timestamp]`; families are contiguous, typed at most once
// and before their samples; series are unique; histograms are complete and cumulative.

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  /** The sample's own name, e.g. keygate_request_duration_seconds_bucket. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export type Exposition = Map<string, Family>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
// Go's strconv.ParseFloat, as the Prometheus parser uses it (no hex floats, no underscores).
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^[+-]?(?:inf|infinity)$/i;
const NAN = /^nan$/i;
const TIMESTAMP = /^-?\d+$/;

export class ExpositionError extends Error {}

function fail(lineNo: number, line: string, why: string): never {
  throw new ExpositionError(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

export function parseFloatGo(s: string): number | undefined {
  if (DECIMAL.test(s)) return Number(s);
  if (INF.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (NAN.test(s)) return NaN;
  return undefined;
}

/** HELP text: only `\\` and `\n` are escapes. */
function unescapeHelp(s: string, lineNo: number, line: string): string {
  return s.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    return fail(lineNo, line, `invalid escape \\${c} in HELP`);
  });
}

/** Parses `{a="x",b="y"}` starting at `s[0] === "{"`; returns the labels and the rest of the line. */
function parseLabels(
  s: string,
  lineNo: number,
  line: string,
): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const name = LABEL_NAME.exec(s.slice(i))?.[0];
    if (!name) fail(lineNo, line, "bad label name");
    if (name.startsWith("__")) fail(lineNo, line, `reserved label name ${name}`);
    if (Object.hasOwn(labels, name)) fail(lineNo, line, `duplicate label ${name}`);
    i += name.length;
    if (s[i] !== "=" || s[i + 1] !== '"') fail(lineNo, line, `label ${name} needs ="value"`);
    i += 2;
    let value = "";
    for (;;) {
      const c = s[i];
      if (c === undefined) fail(lineNo, line, "unterminated label value");
      if (c === '"') break;
      if (c === "\\") {
        const e = s[i + 1];
        if (e === "\\" || e === '"') value += e;
        else if (e === "n") value += "\n";
        else fail(lineNo, line, `invalid escape \\${e ?? ""} in label value`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") fail(lineNo, line, "expected , or } after a label");
  }
}

/** The family a sample belongs to: histogram/summary samples carry a suffix. */
function familyOf(name: string, declared: Map<string, MetricType>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = declared.get(base);
    if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
  }
  return name;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return `${name}${JSON.stringify(sorted)}`;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey("", rest);
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new ExpositionError(`${f.name}: a bucket without le`);
      const bound = parseFloatGo(le);
      if (bound === undefined || Number.isNaN(bound)) throw new ExpositionError(`${f.name}: bad le ${le}`);
      g.buckets.push([bound, s.value]);
    } else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else throw new ExpositionError(`${f.name}: unexpected sample ${s.name} in a histogram`);
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    if (g.sum === undefined || g.count === undefined)
      throw new ExpositionError(`${where}: no _sum or _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevCount] = g.buckets[i - 1]!;
      const [le, count] = g.buckets[i]!;
      if (!(le > prevLe)) throw new ExpositionError(`${where}: le bounds not increasing`);
      if (count < prevCount) throw new ExpositionError(`${where}: bucket counts not cumulative`);
    }
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new ExpositionError(`${where}: no +Inf bucket`);
    if (last[1] !== g.count)
      throw new ExpositionError(`${where}: +Inf bucket ${last[1]} != _count ${g.count}`);
  }
}

/** Parses a scrape; throws ExpositionError naming the first line that breaks the format. */
export function parseExposition(text: string): Exposition {
  if (text.length > 0 && !text.endsWith("\n")) throw new ExpositionError("the last line is not terminated");
  const families: Exposition = new Map();
  const declared = new Map<string, MetricType>();
  const helped = new Set<string>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text.split("\n");
  lines.pop();

  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: declared.get(name) ?? "untyped", samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const enter = (name: string, lineNo: number, line: string): void => {
    if (current === name) return;
    if (closed.has(name)) fail(lineNo, line, `metric family ${name} is not contiguous`);
    if (current !== undefined) closed.add(current);
    current = name;
  };

  lines.forEach((line, idx) => {
    const lineNo = idx + 1;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) return; // any other comment is allowed and ignored
      const [, kw, name, rest = ""] = m as unknown as [string, string, string, string | undefined];
      if (METRIC_NAME.exec(name)?.[0] !== name) fail(lineNo, line, `bad metric name ${name}`);
      enter(name, lineNo, line);
      if (kw === "HELP") {
        if (helped.has(name)) fail(lineNo, line, `second HELP for ${name}`);
        helped.add(name);
        family(name).help = unescapeHelp(rest, lineNo, line);
      } else {
        if (!TYPES.has(rest.trim())) fail(lineNo, line, `unknown type ${rest}`);
        if (declared.has(name)) fail(lineNo, line, `second TYPE for ${name}`);
        if (families.get(name)?.samples.length) fail(lineNo, line, `TYPE for ${name} after its samples`);
        declared.set(name, rest.trim() as MetricType);
        family(name).type = rest.trim() as MetricType;
      }
      return;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) fail(lineNo, line, "a sample must start with a metric name");
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, lineNo, line));
    const parts = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2)
      fail(lineNo, line, "expected a value and an optional timestamp after the name");
    const value = parseFloatGo(parts[0]!);
    if (value === undefined) fail(lineNo, line, `bad value ${parts[0]}`);
    if (parts[1] !== undefined && !TIMESTAMP.test(parts[1])) fail(lineNo, line, `bad timestamp ${parts[1]}`);
    const base = familyOf(name, declared);
    enter(base, lineNo, line);
    const f = family(base);
    if (f.type === "counter" && !(value >= 0)) fail(lineNo, line, "a counter must be >= 0");
    if (f.type === "histogram" && name === base) fail(lineNo, line, "a histogram sample needs a suffix");
    const key = seriesKey(name, labels);
    if (series.has(key)) fail(lineNo, line, "duplicate series");
    series.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** Samples of `name` whose labels include every label in `match`. */
export function samples(exp: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const f of exp.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}

/** The value of the one series of `name` with exactly these labels (undefined if absent). */
export function valueOf(
  exp: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = seriesKey(name, labels);
  for (const s of samples(exp, name, labels)) if (seriesKey(s.name, s.labels) === want) return s.value;
  return undefined;
}

/** Sum over every series of `name` whose labels include `match`. */
export function sumOf(exp: Exposition, name: string, match: Record<string, string> = {}): number {
  return samples(exp, name, match).reduce((a, s) => a + s.value, 0);
}
