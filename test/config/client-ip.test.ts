import { describe, expect, it } from "vitest";
import { createClientIpResolver, forwardedAddress } from "../../server/src/http/client-ip.js";

/** A request from `peer`, with X-Forwarded-For if given. */
function from(peer: string, xff?: string) {
  return { headers: xff === undefined ? {} : { "x-forwarded-for": xff }, socket: { remoteAddress: peer } };
}

describe("createClientIpResolver", () => {
  it("uses the connection's address, and ignores X-Forwarded-For, when no proxy is trusted", () => {
    const ip = createClientIpResolver([]);
    expect(ip(from("203.0.113.7"))).toBe("203.0.113.7");
    expect(ip(from("10.0.0.2", "198.51.100.1"))).toBe("10.0.0.2");
  });

  it("ignores X-Forwarded-For from a connection that is not a trusted proxy", () => {
    const ip = createClientIpResolver(["10.0.0.0/8"]);
    expect(ip(from("203.0.113.7", "198.51.100.1"))).toBe("203.0.113.7");
  });

  it("takes the address a trusted proxy appended", () => {
    const ip = createClientIpResolver(["10.0.0.0/8"]);
    expect(ip(from("10.0.0.2", "203.0.113.7"))).toBe("203.0.113.7");
    expect(ip(from("::ffff:10.0.0.2", "203.0.113.7"))).toBe("203.0.113.7");
    // No header: the proxy's own request.
    expect(ip(from("10.0.0.2"))).toBe("10.0.0.2");
  });

  it("walks past a chain of trusted proxies, and never believes what the client wrote to their left", () => {
    const ip = createClientIpResolver(["10.0.0.0/8", "192.168.0.0/16"]);
    // The client sent "198.51.100.66" itself; the edge proxy appended the client's real address,
    // an inner proxy appended the edge proxy's.
    expect(ip(from("10.0.0.2", "198.51.100.66, 203.0.113.7, 192.168.4.4"))).toBe("203.0.113.7");
    // Every hop trusted: the furthest one is the client.
    expect(ip(from("10.0.0.2", "192.168.1.1, 10.9.9.9"))).toBe("192.168.1.1");
  });

  it("stops at an entry that is not an address", () => {
    const ip = createClientIpResolver(["10.0.0.0/8"]);
    expect(ip(from("10.0.0.2", "203.0.113.7, unknown"))).toBe("10.0.0.2");
    expect(ip(from("10.0.0.2", "203.0.113.7, 10.1.1.1, not-an-ip"))).toBe("10.0.0.2");
    expect(ip(from("10.0.0.2", "unknown, 10.1.1.1"))).toBe("10.1.1.1");
  });

  it("reads entries with ports, IPv6, and repeated headers", () => {
    const ip = createClientIpResolver(["10.0.0.0/8", "fd00::/8"]);
    expect(ip(from("10.0.0.2", "203.0.113.7:41234"))).toBe("203.0.113.7");
    expect(ip(from("fd00::2", "[2001:db8::1]:41234"))).toBe("2001:db8::1");
    expect(ip(from("fd00::2", "2001:db8::1"))).toBe("2001:db8::1");
    const repeated = {
      headers: { "x-forwarded-for": ["198.51.100.66", "203.0.113.7"] },
      socket: { remoteAddress: "10.0.0.2" },
    };
    expect(ip(repeated)).toBe("203.0.113.7");
  });
});

describe("forwardedAddress", () => {
  it("accepts plain addresses and refuses anything else", () => {
    expect(forwardedAddress(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(forwardedAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(forwardedAddress("127.1")).toBeUndefined();
    expect(forwardedAddress("")).toBeUndefined();
    expect(forwardedAddress("[2001:db8::1")).toBeUndefined();
    expect(forwardedAddress("example.com")).toBeUndefined();
    expect(forwardedAddress("fe80::1%eth0")).toBeUndefined();
  });
});
