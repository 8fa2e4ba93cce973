// Joining a provider's base URL with an API path. The base's own path is kept
// (https://openrouter.ai/api/v1 + /chat/completions), as is any query it carries.

/** A base URL split once, so each request only concatenates strings. */
export interface BaseUrl {
  /** Origin plus path, without a trailing slash. */
  prefix: string;
  /** The base's query without "?", or "". */
  query: string;
}

export function parseBaseUrl(baseUrl: string): BaseUrl {
  const hash = baseUrl.indexOf("#");
  const noHash = hash === -1 ? baseUrl : baseUrl.slice(0, hash);
  const q = noHash.indexOf("?");
  const prefix = (q === -1 ? noHash : noHash.slice(0, q)).replace(/\/+$/, "");
  return { prefix, query: q === -1 ? "" : noHash.slice(q + 1) };
}

/** Joins a pre-split base with a path that may carry its own query (e.g. "?alt=sse"). */
export function joinBase(base: BaseUrl, path: string): string {
  const rel = path.startsWith("/") ? path : `/${path}`;
  if (base.query === "") return base.prefix + rel;
  return base.prefix + rel + (rel.includes("?") ? "&" : "?") + base.query;
}

export function joinUpstreamUrl(baseUrl: string, path: string): string {
  return joinBase(parseBaseUrl(baseUrl), path);
}

/** A joiner bound to one base URL, for callers that keep it per provider. */
export function createUrlJoiner(baseUrl: string): (path: string) => string {
  const base = parseBaseUrl(baseUrl);
  return (path) => joinBase(base, path);
}
