// When and how long to wait before trying the same upstream again: exponential backoff with full
// jitter, or the upstream's own Retry-After when it gave one (up to a cap; beyond the cap keygate
// moves on to the next target instead of waiting).

export interface RetryConfig {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

/** Failures worth another try: rate limits, server errors, timeouts and connection failures. */
export function isRetryable(status: number, errorClass: string): boolean {
  if (status === 429 || status >= 500) return true;
  return (
    errorClass === "upstream_timeout" ||
    errorClass === "upstream_unreachable" ||
    errorClass === "upstream_reset"
  );
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unparseable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const trimmed = v.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before attempt number `attempt` (1 = the first retry), or undefined when the upstream
 * asked for longer than the cap (give up on this target).
 */
export function retryDelay(
  cfg: RetryConfig,
  attempt: number,
  retryAfterMs: number | undefined,
  rand = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs <= cfg.maxRetryAfterMs ? retryAfterMs : undefined;
  const ceiling = Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(rand() * ceiling);
}
