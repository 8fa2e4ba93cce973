import { describe, expect, it } from "vitest";
import { commit, createMemoryState, evaluate } from "../../server/src/limits/memory-state.js";
import { planFor } from "../../server/src/limits/plan.js";
import { T } from "./helpers.js";

const opts = { leaseMs: 5_000, reservationTtlMs: 5_000 };

describe("memory counters", () => {
  it("drop idle scopes once their windows have passed", () => {
    const state = createMemoryState();
    const busy = planFor(
      [{ id: "key:a", rate: { requestsPerMinute: 5, tokensPerMinute: 100, maxConcurrent: 2 } }],
      10,
      null,
      T,
    );
    commit(state, busy, T, "t1", opts);
    expect(state.requests.has("key:a")).toBe(true);
    expect(state.tokens.size).toBe(1);
    expect(state.concurrency.get("key:a")?.size).toBe(1);

    const later = T + 2 * 60_000;
    const other = planFor([{ id: "key:b", rate: { requestsPerMinute: 5 } }], 0, null, later);
    commit(state, other, later, "t2", opts);
    expect([...state.requests.keys()]).toEqual(["key:b"]);
    expect(state.tokens.size).toBe(0);
    expect(state.concurrency.has("key:a")).toBe(false);
  });

  it("keep timestamps ordered when a caller's clock steps back", () => {
    const state = createMemoryState();
    const plan = planFor([{ id: "key:a", rate: { requestsPerMinute: 2 } }], 0, null, T);
    commit(state, plan, T + 1_000, "t1", opts);
    commit(state, plan, T, "t2", opts);
    const ev = evaluate(state, plan, T + 2_000);
    // The oldest (T) leaves first: 58 s from T + 2 s.
    expect(ev.failure).toEqual({ kind: "requests", index: 0, retryMs: 58_000 });
  });
});
