// Source-IP allowlist, checked before anything else on every request.
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Results are memoised per address string; the cap keeps a scan of many sources from growing memory. */
const MEMO_LIMIT = 10_000;

/**
 * Parses one allowlist entry: an IPv4/IPv6 address or CIDR range. IPv4 must be plain dotted decimal
 * (ipaddr.js would otherwise also accept legacy forms such as "127.1" or "0x7f.1").
 * An IPv4-mapped IPv6 range is turned into its IPv4 range, since clients are matched as IPv4.
 */
export function parseAllowEntry(entry: string): Range | undefined {
  const isCidr = entry.includes("/");
  const valid = entry.includes(":")
    ? isCidr
      ? ipaddr.IPv6.isValidCIDR(entry)
      : ipaddr.IPv6.isValid(entry)
    : isCidr
      ? ipaddr.IPv4.isValidCIDRFourPartDecimal(entry)
      : ipaddr.IPv4.isValidFourPartDecimal(entry);
  if (!valid) return undefined;
  const [addr, bits]: Range = isCidr ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), fullBits(entry)];
  if (addr.kind() === "ipv6" && bits >= 96) {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return [v6.toIPv4Address(), bits - 96];
  }
  return [addr, bits];
}

export function isValidAllowEntry(entry: string): boolean {
  return parseAllowEntry(entry) !== undefined;
}

/**
 * Returns a predicate telling whether a client address may connect. An empty list allows every
 * source; an address that does not parse is refused. Throws if an entry is invalid (the config
 * loader has already rejected those).
 */
export function createAllowlist(entries: string[]): (ip: string) => boolean {
  if (entries.length === 0) return () => true;
  const v4: Range[] = [];
  const v6: Range[] = [];
  for (const entry of entries) {
    const range = parseAllowEntry(entry);
    if (!range) throw new Error(`invalid allowlist entry: ${entry}`);
    (range[0].kind() === "ipv4" ? v4 : v6).push(range);
  }
  const memo = new Map<string, boolean>();
  return (ip) => {
    const known = memo.get(ip);
    if (known !== undefined) return known;
    const allowed = matches(ip, v4, v6);
    // Drop the oldest entry rather than the whole memo, so hot addresses stay cached.
    if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
    memo.set(ip, allowed);
    return allowed;
  };
}

function matches(ip: string, v4: Range[], v6: Range[]): boolean {
  let addr: Address;
  try {
    // process() turns "::ffff:127.0.0.1" into 127.0.0.1, as dual-stack sockets report IPv4 clients.
    addr = ipaddr.process(ip);
  } catch {
    return false;
  }
  const ranges = addr.kind() === "ipv4" ? v4 : v6;
  return ranges.some((range) => addr.match(range));
}

function fullBits(entry: string): number {
  return entry.includes(":") ? 128 : 32;
}
