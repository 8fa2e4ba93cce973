// Embedded PGlite runs on its own thread: a slow statement must not hold the gateway's event
// loop, errors keep their SQLSTATE, and NOTIFY reaches listeners.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEmbeddedPostgres, type EmbeddedPostgres } from "../../server/src/store/embedded.js";
import { isUniqueViolation } from "../../server/src/store/errors.js";

let dir: string;
let pg: EmbeddedPostgres;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keygate-embedded-"));
  pg = await openEmbeddedPostgres(dir);
});
afterAll(async () => {
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("embedded database thread", () => {
  it("keeps the event loop free while a statement runs", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      await pg.query("select pg_sleep(0.4)", []);
    } finally {
      clearInterval(timer);
    }
    // On the calling thread the sleep would block the loop and no tick could fire until it ended.
    // Here about 40 fire; a host that starves this process of CPU still lets several through.
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it("returns rows with int8 as numbers, and affected row counts", async () => {
    await pg.query("create table t (id text primary key, n int8)", []);
    const ins = await pg.query("insert into t values ($1, $2), ($3, $4)", ["a", 5, "b", 7]);
    expect(ins.affectedRows).toBe(2);
    const sum = await pg.query<{ total: number }>("select sum(n)::int8 as total from t", []);
    expect(sum.rows).toEqual([{ total: 12 }]);
  });

  it("passes the SQLSTATE of a failed statement", async () => {
    const err: unknown = await pg.query("insert into t values ($1, $2)", ["a", 1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isUniqueViolation(err)).toBe(true);
  });

  it("delivers NOTIFY payloads until unlistened", async () => {
    const got: string[] = [];
    const unlisten = await pg.listen("kg_test", (p) => got.push(p));
    await pg.query("select pg_notify('kg_test', 'one')", []);
    await expect.poll(() => got).toEqual(["one"]);
    await unlisten();
    await pg.query("select pg_notify('kg_test', 'two')", []);
    // A query after the notify has round-tripped through the worker, so a delivery would be here.
    await pg.query("select 1", []);
    expect(got).toEqual(["one"]);
  });
});
