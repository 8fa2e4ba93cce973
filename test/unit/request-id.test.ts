import { describe, expect, it } from "vitest";
import { requestId } from "../../server/src/usage/request-id.js";

const timeOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("requestId", () => {
  it("is a UUIDv7 carrying the time in milliseconds", () => {
    const at = Date.UTC(2026, 10, 21, 16, 0, 0, 123);
    const id = requestId(at);
    expect(id).toMatch(V7);
    expect(timeOf(id)).toBe(at);
  });

  it("sorts by time across milliseconds, and never repeats", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => requestId(1_700_000_000_000 + Math.floor(i / 10)));
    // In string order, the times carried never go backwards.
    const sorted = [...ids].sort();
    for (let i = 1; i < sorted.length; i++)
      expect(timeOf(sorted[i]!)).toBeGreaterThanOrEqual(timeOf(sorted[i - 1]!));
    for (let i = 10; i < ids.length; i += 10) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(V7);
  });
});
