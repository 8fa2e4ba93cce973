// The per-request series: plain numbers updated on the hot path and written out in the Prometheus
// text format only when scraped. prom-client validates and hashes labels on every inc() and
// observe(), which cost more than the rest of the usage bookkeeping together; here an update is an
// array index and an addition.

/** A counter family whose label values are fixed per series. */
export interface CounterFamily {
  /** The series for these label values (in the family's label order), created on first use. */
  series(values: readonly string[]): { value: number };
  render(): string;
}

/** A histogram family. */
export interface HistogramFamily {
  series(values: readonly string[]): HistogramSeries;
  render(): string;
}

export interface HistogramSeries {
  observe(v: number): void;
}

interface Meta {
  name: string;
  help: string;
  labelNames: readonly string[];
}

/** Escapes a label value as the exposition format requires. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[]): string {
  return names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`).join(",");
}

function header(m: Meta, type: "counter" | "histogram"): string {
  return `# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${m.name} ${type}\n`;
}

/** Numbers as Prometheus writes them. */
function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function counterFamily(meta: Meta): CounterFamily {
  const series = new Map<string, { labels: string; value: number }>();
  return {
    series(values) {
      const key = values.join("\u0000");
      let s = series.get(key);
      if (!s) {
        s = { labels: labelText(meta.labelNames, values), value: 0 };
        series.set(key, s);
      }
      return s;
    },
    render() {
      let out = header(meta, "counter");
      // Series are created ahead of use; one appears once it has counted something.
      for (const s of series.values()) {
        if (s.value !== 0) out += `${meta.name}${s.labels ? `{${s.labels}}` : ""} ${num(s.value)}\n`;
      }
      return out;
    },
  };
}

export function histogramFamily(meta: Meta & { buckets: readonly number[] }): HistogramFamily {
  const bounds = [...meta.buckets].sort((a, b) => a - b);
  interface State extends HistogramSeries {
    labels: string;
    /** Non-cumulative counts per bucket; the last slot is above the highest bound. */
    counts: Float64Array;
    sum: number;
    count: number;
  }
  const series = new Map<string, State>();
  return {
    series(values) {
      const key = values.join("\u0000");
      let s = series.get(key);
      if (!s) {
        const state: State = {
          labels: labelText(meta.labelNames, values),
          counts: new Float64Array(bounds.length + 1),
          sum: 0,
          count: 0,
          observe(v) {
            let i = 0;
            while (i < bounds.length && v > bounds[i]!) i++;
            state.counts[i]!++;
            state.sum += v;
            state.count++;
          },
        };
        s = state;
        series.set(key, s);
      }
      return s;
    },
    render() {
      let out = header(meta, "histogram");
      for (const s of series.values()) {
        const sep = s.labels ? `,${s.labels}` : "";
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          cumulative += s.counts[i]!;
          out += `${meta.name}_bucket{le="${num(bounds[i]!)}"${sep}} ${cumulative}\n`;
        }
        out += `${meta.name}_bucket{le="+Inf"${sep}} ${s.count}\n`;
        const plain = s.labels ? `{${s.labels}}` : "";
        out += `${meta.name}_sum${plain} ${num(s.sum)}\n${meta.name}_count${plain} ${s.count}\n`;
      }
      return out;
    },
  };
}
