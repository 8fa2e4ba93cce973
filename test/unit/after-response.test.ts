import { describe, expect, it } from "vitest";
import pino from "pino";
import { createAfterResponse } from "../../server/src/facade/after-response.js";

/** Resolves in the check phase after every immediate queued before it. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A pino logger whose error lines are kept. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "error" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe("after-response bookkeeping", () => {
  it("runs jobs at the end of the turn, in the order they were queued, never at once", async () => {
    const { logger } = capturingLogger();
    const after = createAfterResponse(logger);
    const ran: number[] = [];
    after(() => ran.push(1));
    after(() => ran.push(2));
    after(() => ran.push(3));
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual([1, 2, 3]);
  });

  it("logs a job that throws, and still runs the jobs queued after it", async () => {
    const { logger, lines } = capturingLogger();
    const after = createAfterResponse(logger);
    const ran: string[] = [];
    after(() => {
      throw new Error("pricing exploded");
    });
    after(() => ran.push("next"));
    await nextTurn();
    expect(ran).toEqual(["next"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: "request bookkeeping failed", err: "pricing exploded" });
  });

  it("flush runs every queued job now, and each only once", async () => {
    const { logger } = capturingLogger();
    const after = createAfterResponse(logger);
    let runs = 0;
    after(() => runs++);
    after(() => runs++);
    after.flush();
    expect(runs).toBe(2);
    await nextTurn();
    expect(runs).toBe(2);
  });

  it("runs a job queued by another job in a later turn", async () => {
    const { logger } = capturingLogger();
    const after = createAfterResponse(logger);
    const ran: string[] = [];
    after(() => {
      ran.push("outer");
      after(() => ran.push("inner"));
    });
    await nextTurn();
    expect(ran).toEqual(["outer"]);
    await nextTurn();
    expect(ran).toEqual(["outer", "inner"]);
  });
});
