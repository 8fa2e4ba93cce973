import { describe, expect, it } from "vitest";
import { scopesForRequest } from "../../server/src/limits/index.js";

describe("scopesForRequest", () => {
  const rateLimiting = {
    global: { requestsPerMinute: 60, tokensPerDay: 1_000_000 },
    perClient: { requestsPerMinute: 10 },
  };

  it("checks a virtual key against global, per-client, its own limits and its instance", () => {
    const scopes = scopesForRequest(
      rateLimiting,
      {
        kind: "key",
        id: "key_abc",
        rate: { tokensPerHour: 50_000 },
        budgets: [{ window: "daily", limitUsd: 5 }],
      },
      { id: "agent-1", rate: { maxConcurrent: 4 }, budgets: [{ window: "monthly", limitUsd: 100 }] },
    );
    expect(scopes).toEqual([
      { id: "global", rate: rateLimiting.global },
      { id: "client:key_abc", rate: rateLimiting.perClient },
      { id: "key:key_abc", rate: { tokensPerHour: 50_000 }, budgets: [{ window: "daily", limitUsd: 5 }] },
      { id: "instance:agent-1", rate: { maxConcurrent: 4 }, budgets: [{ window: "monthly", limitUsd: 100 }] },
    ]);
  });

  it("gives each static token its own per-client scope and leaves out scopes without limits", () => {
    const scopes = scopesForRequest(
      { perClient: { tokensPerHour: 50_000 } },
      { kind: "token", id: "ci-pipeline", rate: { requestsPerMinute: 5 } },
      { id: "agent-2", rate: {} },
    );
    expect(scopes.map((s) => s.id)).toEqual(["client:token:ci-pipeline", "token:ci-pipeline"]);
  });
});
