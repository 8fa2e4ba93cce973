// Order statistics for the benchmark's samples.

/** The q-th percentile (0-100) by linear interpolation between closest ranks; NaN for no samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (Math.min(100, Math.max(0, q)) / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** The median of one field over several runs: each figure in the report is such a median. */
export function medianOf<T>(runs: readonly T[], pick: (run: T) => number): number {
  return median(runs.map(pick));
}
