// The client's address. Behind a load balancer or reverse proxy every connection comes from the
// proxy, so for a connection from one of security.trustedProxies the address comes from
// X-Forwarded-For instead. Each proxy appends the address it received the request from, so the
// header is read from the right, past the trusted proxies: the first address that is not one of
// them is the client's. Entries to its left were written by the client itself and are never used.
import type { IncomingHttpHeaders } from "node:http";
import ipaddr from "ipaddr.js";
import { createAllowlist } from "./allowlist.js";

/** What the resolver reads from a request (an HTTP/1.1 or HTTP/2 one). */
export interface ClientIpSource {
  headers: IncomingHttpHeaders;
  socket?: { remoteAddress?: string } | null;
}

export type ClientIpResolver = (req: ClientIpSource) => string;

const peerOf: ClientIpResolver = (req) => req.socket?.remoteAddress ?? "";

/**
 * One X-Forwarded-For entry as an address, or undefined if it is none. Some proxies append a port
 * ("203.0.113.7:41234", "[2001:db8::1]:41234"); IPv4 must be plain dotted decimal.
 */
export function forwardedAddress(entry: string): string | undefined {
  let s = entry.trim();
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) return undefined;
    s = s.slice(1, end);
  } else if (s.indexOf(":") === s.lastIndexOf(":") && s.includes(".")) {
    // IPv4 with a port (an IPv6 address has more than one colon).
    const colon = s.indexOf(":");
    if (colon >= 0) s = s.slice(0, colon);
  }
  // A zone ("fe80::1%eth0") names an interface on the proxy's machine, not a client.
  const valid = s.includes(":")
    ? !s.includes("%") && ipaddr.IPv6.isValid(s)
    : ipaddr.IPv4.isValidFourPartDecimal(s);
  // process() turns an IPv4-mapped IPv6 address into IPv4, as sockets report IPv4 clients.
  return valid ? ipaddr.process(s).toString() : undefined;
}

export function createClientIpResolver(trustedProxies: string[]): ClientIpResolver {
  if (trustedProxies.length === 0) return peerOf;
  const trusted = createAllowlist(trustedProxies);
  return (req) => {
    const peer = peerOf(req);
    const header = req.headers["x-forwarded-for"];
    if (!header || !trusted(peer)) return peer;
    const hops = (Array.isArray(header) ? header.join(",") : header).split(",");
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = forwardedAddress(hops[i]!);
      // Not an address: the last trusted proxy is as far as the chain can be followed.
      if (hop === undefined) break;
      client = hop;
      if (!trusted(hop)) break;
    }
    return client;
  };
}
