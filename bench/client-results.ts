// What each load-client process prints (one JSON line), shared by the clients and the harness.

export interface TtfbResult {
  ttfbMs: number[];
  totalMs: number[];
  /** Requests that failed or whose stream did not end with [DONE]. */
  errors: number;
}

export interface LoadResult {
  /** Requests issued: exactly the number asked for unless the time limit cut the run short. */
  sent: number;
  ok: number;
  /** Non-200 responses by status, and transport failures under "error". */
  failures: Record<string, number>;
  durationMs: number;
  timedOut: boolean;
}

export interface HoldResult {
  /** Streams whose response headers arrived with status 200 and are still open. */
  open: number;
  failed: number;
  /** Requests started (open, failed, or still waiting for headers). */
  started: number;
  /** Time to get every stream open, or until the client gave up waiting. */
  openMs: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");

export function asTtfbResult(v: unknown): TtfbResult {
  if (isRecord(v) && isNumbers(v.ttfbMs) && isNumbers(v.totalMs) && typeof v.errors === "number") {
    return { ttfbMs: v.ttfbMs, totalMs: v.totalMs, errors: v.errors };
  }
  throw new Error(`unexpected ttfb client output: ${JSON.stringify(v)}`);
}

export function asLoadResult(v: unknown): LoadResult {
  if (
    isRecord(v) &&
    typeof v.sent === "number" &&
    typeof v.ok === "number" &&
    isRecord(v.failures) &&
    typeof v.durationMs === "number" &&
    typeof v.timedOut === "boolean"
  ) {
    return {
      sent: v.sent,
      ok: v.ok,
      failures: Object.fromEntries(Object.entries(v.failures).map(([k, n]) => [k, Number(n)])),
      durationMs: v.durationMs,
      timedOut: v.timedOut,
    };
  }
  throw new Error(`unexpected load client output: ${JSON.stringify(v)}`);
}

export function asHoldResult(v: unknown): HoldResult {
  if (
    isRecord(v) &&
    typeof v.open === "number" &&
    typeof v.failed === "number" &&
    typeof v.started === "number" &&
    typeof v.openMs === "number"
  ) {
    return { open: v.open, failed: v.failed, started: v.started, openMs: v.openMs };
  }
  throw new Error(`unexpected hold client output: ${JSON.stringify(v)}`);
}
