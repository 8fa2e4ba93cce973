import { describe, expect, it } from "vitest";
import { createAllowlist, isValidAllowEntry } from "../../server/src/http/allowlist.js";

describe("createAllowlist", () => {
  it("allows every source when the list is empty", () => {
    const allowed = createAllowlist([]);
    expect(["127.0.0.1", "::1", "203.0.113.9"].map(allowed)).toEqual([true, true, true]);
  });

  it("matches single IPv4 addresses and IPv4 CIDRs", () => {
    const allowed = createAllowlist(["127.0.0.1", "10.0.0.0/8", "192.168.1.0/24"]);
    expect(allowed("127.0.0.1")).toBe(true);
    expect(allowed("127.0.0.2")).toBe(false);
    expect(allowed("10.255.3.4")).toBe(true);
    expect(allowed("11.0.0.1")).toBe(false);
    expect(allowed("192.168.1.200")).toBe(true);
    expect(allowed("192.168.2.1")).toBe(false);
  });

  it("matches IPv6 addresses and CIDRs, in any notation", () => {
    const allowed = createAllowlist(["::1", "2001:db8::/32"]);
    expect(allowed("::1")).toBe(true);
    expect(allowed("0:0:0:0:0:0:0:1")).toBe(true);
    expect(allowed("2001:db8:ffff::5")).toBe(true);
    expect(allowed("2001:db9::1")).toBe(false);
    expect(allowed("127.0.0.1")).toBe(false);
  });

  it("matches IPv4-mapped IPv6 clients against IPv4 entries", () => {
    const allowed = createAllowlist(["127.0.0.1", "10.0.0.0/8"]);
    expect(allowed("::ffff:127.0.0.1")).toBe(true);
    expect(allowed("::ffff:10.1.2.3")).toBe(true);
    expect(allowed("::ffff:192.0.2.1")).toBe(false);
  });

  it("treats a mapped IPv6 entry as its IPv4 range", () => {
    const allowed = createAllowlist(["::ffff:10.0.0.0/104"]);
    expect(allowed("10.9.9.9")).toBe(true);
    expect(allowed("::ffff:10.9.9.9")).toBe(true);
    expect(allowed("11.0.0.1")).toBe(false);
  });

  it("refuses addresses that do not parse", () => {
    const allowed = createAllowlist(["0.0.0.0/0"]);
    expect(allowed("")).toBe(false);
    expect(allowed("not-an-ip")).toBe(false);
    expect(allowed("8.8.8.8")).toBe(true);
  });

  it("keeps answering correctly after the memo has filled up", () => {
    const allowed = createAllowlist(["10.0.0.0/16"]);
    expect(allowed("10.0.0.1")).toBe(true);
    for (let i = 0; i < 12_000; i++) allowed(`10.${(i >> 8) & 255}.${i & 255}.1`);
    expect(allowed("10.0.0.1")).toBe(true);
    expect(allowed("10.1.0.1")).toBe(false);
    expect(allowed("10.46.224.1")).toBe(false);
  });

  it("throws on an invalid entry", () => {
    expect(() => createAllowlist(["10.0.0.0/33"])).toThrow("invalid allowlist entry");
  });
});

describe("isValidAllowEntry", () => {
  it("accepts addresses and CIDRs of both families", () => {
    expect(["1.2.3.4", "10.0.0.0/8", "::1", "fe80::/10", "::ffff:1.2.3.4"].every(isValidAllowEntry)).toBe(
      true,
    );
  });

  it("rejects malformed and legacy forms", () => {
    for (const entry of [
      "10.0.0.0/33",
      "::/129",
      "127.1",
      "0x7f.0.0.1",
      "1.2.3.4/",
      "localhost",
      " 1.2.3.4",
      "",
    ]) {
      expect(isValidAllowEntry(entry), entry).toBe(false);
    }
  });
});
