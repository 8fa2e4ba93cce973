import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RequestRecordSchema } from "../../sdk/index.js";
import {
  FEED_CAP,
  feedReducer,
  initialFeed,
  type FeedState,
} from "../../server/src/dashboard/ui/live-feed.js";

function rec(id: string) {
  return {
    type: "event" as const,
    event: { case: "record" as const, value: create(RequestRecordSchema, { id }) },
    at: 0,
  };
}

function ids(state: FeedState): string[] {
  return state.items.map((i) => (i.kind === "record" ? i.record.id : `missed:${i.count}:${i.reason}`));
}

describe("live feed", () => {
  it("shows newest first and keeps at most the cap", () => {
    let s = initialFeed();
    for (let i = 0; i < FEED_CAP + 5; i++) s = feedReducer(s, rec(`r${i}`));
    expect(s.items).toHaveLength(FEED_CAP);
    expect(ids(s)[0]).toBe(`r${FEED_CAP + 4}`);
    expect(ids(s).at(-1)).toBe("r5");
  });

  it("turns a missed event into a notice and keeps a running total", () => {
    let s = feedReducer(initialFeed(), rec("a"));
    s = feedReducer(s, { type: "event", event: { case: "missed", value: 7n }, at: 0 });
    s = feedReducer(s, { type: "event", event: { case: "missed", value: 3n }, at: 0 });
    expect(ids(s)).toEqual(["missed:3:slow", "missed:7:slow", "a"]);
    expect(s.missedTotal).toBe(10);
  });

  it("holds events while paused and shows them, in order, on resume", () => {
    let s = feedReducer(initialFeed(), rec("a"));
    s = feedReducer(s, { type: "pause" });
    s = feedReducer(s, rec("b"));
    s = feedReducer(s, rec("c"));
    expect(ids(s)).toEqual(["a"]);
    expect(s.pending).toHaveLength(2);
    s = feedReducer(s, { type: "resume", at: 0 });
    expect(ids(s)).toEqual(["c", "b", "a"]);
    expect(s.paused).toBe(false);
  });

  it("says how many were not kept when a pause outlasts the buffer", () => {
    let s = feedReducer(initialFeed(), rec("old"));
    s = feedReducer(s, { type: "pause" });
    for (let i = 0; i < FEED_CAP + 3; i++) s = feedReducer(s, rec(`p${i}`));
    s = feedReducer(s, { type: "resume", at: 0 });
    expect(ids(s)[0]).toBe(`p${FEED_CAP + 2}`);
    expect(ids(s).at(-1)).toBe("missed:4:paused");
    expect(s.items).toHaveLength(FEED_CAP);
  });

  it("keys are unique so the list can render incrementally", () => {
    let s = initialFeed();
    for (let i = 0; i < 10; i++) s = feedReducer(s, rec("same-id"));
    expect(new Set(s.items.map((i) => i.key)).size).toBe(10);
  });
});
