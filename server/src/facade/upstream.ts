// Keep-alive connection pools, one per upstream origin, and the error classification of a
// failed upstream call. Pools are created lazily and reused for the life of the process.
import { Pool } from "undici";
import type { TimeoutsConfig } from "../config/types.js";

export interface Upstreams {
  pool(origin: string, timeouts: TimeoutsConfig): Pool;
  close(): Promise<void>;
}

export function createUpstreams(): Upstreams {
  const pools = new Map<string, Pool>();
  return {
    pool(origin, timeouts) {
      const key = `${origin}|${timeouts.connectMs}`;
      let p = pools.get(key);
      if (!p) {
        p = new Pool(origin, {
          // One connection per in-flight request, without a cap: a cap would queue streams (which
          // hold their connection for minutes) behind each other. Idle ones are kept for reuse.
          connections: null,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          connect: { timeout: timeouts.connectMs },
        });
        pools.set(key, p);
      }
      return p;
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.close().catch(() => p.destroy())));
      pools.clear();
    },
  };
}

const splitCache = new Map<string, { origin: string; prefix: string }>();

/**
 * Splits a provider base URL into the origin (the pool key) and the path prefix kept before API
 * paths. Memoised: base URLs are few and fixed, and this runs on every request.
 */
export function splitBaseUrl(baseUrl: string): { origin: string; prefix: string } {
  let split = splitCache.get(baseUrl);
  if (!split) {
    const u = new URL(baseUrl);
    split = { origin: u.origin, prefix: u.pathname.replace(/\/+$/, "") };
    splitCache.set(baseUrl, split);
  }
  return split;
}

export type UpstreamFailure =
  "upstream_timeout" | "upstream_unreachable" | "upstream_reset" | "client_closed";

/** Maps an undici/network error to an error class; undefined means "not an upstream failure". */
export function classifyUpstreamError(err: unknown): UpstreamFailure | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: string; name?: string; cause?: unknown };
  switch (e.code) {
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT":
      return "upstream_timeout";
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "upstream_unreachable";
    case "UND_ERR_SOCKET":
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_CLOSED":
      return "upstream_reset";
    case "UND_ERR_ABORTED":
      return "client_closed";
  }
  if (e.name === "AbortError") return "client_closed";
  if (e.name === "TimeoutError") return "upstream_timeout";
  if (e.cause) return classifyUpstreamError(e.cause);
  return undefined;
}
