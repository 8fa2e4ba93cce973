// Credential handling at the edge: find the virtual key wherever the client's SDK put it, and
// build the upstream header list with every client credential removed.
import type { IncomingHttpHeaders } from "node:http";

/** The virtual key from Authorization: Bearer, x-api-key, x-goog-api-key, api-key or ?key=. */
export function presentedKey(
  headers: IncomingHttpHeaders,
  query: URLSearchParams | undefined,
): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (m) return m[1]!.trim();
  }
  const x = headers["x-api-key"] ?? headers["x-goog-api-key"] ?? headers["api-key"];
  if (typeof x === "string" && x.length > 0) return x;
  const q = query?.get("key");
  return q || undefined;
}

/** Client headers never forwarded: credentials, cookies, hop-by-hop and framing headers. */
const DROP = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "cookie",
  "host",
  "connection",
  "proxy-connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "content-length",
  "accept-encoding",
  "x-keygate-tag",
]);

/**
 * The header names a Connection header lists besides keep-alive and close. They are hop-by-hop
 * (meant for this one connection), so a gateway removes them before forwarding (RFC 9110 §7.6.1).
 */
function connectionOptions(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const all = Array.isArray(value) ? value.join(",") : value;
  // The usual value, on nearly every upstream answer: nothing to split.
  if (all === "keep-alive" || all === "close") return undefined;
  let options: string[] | undefined;
  for (const token of all.split(",")) {
    const name = token.trim().toLowerCase();
    if (name && name !== "keep-alive" && name !== "close") (options ??= []).push(name);
  }
  return options;
}

/** A flat [name, value, ...] list without the named headers. */
function withoutNames(flat: string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (!names.includes(flat[i]!)) out.push(flat[i]!, flat[i + 1]!);
  return out;
}

/**
 * Upstream headers as a flat [name, value, ...] list (what undici takes without copying).
 * accept-encoding is forced to identity so the usage tap can read the stream.
 */
export function upstreamHeaders(
  rawHeaders: readonly string[],
  inject: readonly (readonly [string, string])[],
  defaults: readonly (readonly [string, string])[],
  contentLength: number,
  /** Translating to another wire family: the client's protocol headers mean nothing upstream. */
  crossFamily = false,
): string[] {
  let out: string[] = [];
  let hasContentType = false;
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === "connection")
      connection = connection === undefined ? rawHeaders[i + 1] : `${connection},${rawHeaders[i + 1]}`;
    if (DROP.has(name) || name.startsWith("x-keygate-")) continue;
    if (
      crossFamily &&
      (name.startsWith("anthropic-") || name.startsWith("openai-") || name.startsWith("x-stainless-"))
    )
      continue;
    if (name === "content-type") hasContentType = true;
    out.push(name, rawHeaders[i + 1]!);
  }
  const hopByHop = connectionOptions(connection);
  if (hopByHop) {
    out = withoutNames(out, hopByHop);
    hasContentType = hasName(out, "content-type");
  }
  // A default applies only when the client did not send the header (a linear scan: lists are short).
  for (const [k, v] of defaults) if (!hasName(out, k)) out.push(k, v);
  for (const [k, v] of inject) out.push(k, v);
  if (!hasContentType) out.push("content-type", "application/json");
  out.push("content-length", String(contentLength), "accept-encoding", "identity");
  return out;
}

function hasName(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true;
  return false;
}

/** Upstream response headers never passed back: hop-by-hop and framing headers, cookies. */
const DROP_RESPONSE = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authenticate",
  "transfer-encoding",
  "trailer",
  "upgrade",
  "set-cookie",
  "content-length",
]);

/**
 * Upstream response headers as a flat list. The upstream's own x-request-id is passed on as
 * x-upstream-request-id: the client's x-request-id must be keygate's, the id its record is under.
 */
export function responseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  keepLength: boolean,
): string[] {
  const out: string[] = [];
  const hopByHop = connectionOptions(upstream.connection);
  for (const name in upstream) {
    if (DROP_RESPONSE.has(name) && !(keepLength && name === "content-length")) continue;
    if (hopByHop?.includes(name)) continue;
    if (name.startsWith("x-keygate-")) continue;
    const v = upstream[name];
    if (v === undefined) continue;
    const outName = name === "x-request-id" ? "x-upstream-request-id" : name;
    if (Array.isArray(v)) for (const one of v) out.push(outName, one);
    else out.push(outName, v);
  }
  return out;
}
