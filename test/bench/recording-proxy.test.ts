// The bench's recording reference does the work it is said to do: it admits only its key, records
// exactly one usage row per request in Postgres (with the answer's tokens), and removes its rows
// when it stops. Otherwise its figures would understate what recording costs.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { request } from "undici";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startProc, waitForUrl, type Proc } from "../../bench/procs.js";
import { openDatabase } from "../../server/src/store/db.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const KEY = `kg_bench_${randomBytes(16).toString("hex")}`;
let database: TestDatabase;
let upstream: Proc;
let proxy: Proc;
let proxyUrl: string;
let db: pg.Pool;

beforeAll(async () => {
  for (const e of ["bench-upstream", "bench-bare-proxy"])
    expect(existsSync(join(root, "dist", `${e}.js`)), "run `npm run build` first").toBe(true);
  database = await createTestDatabase("kg_bench_rec");
  // keygate's own schema, so the rows land in the real usage_records table with its indexes.
  await (await openDatabase({ dataDir: "", url: database.url })).close();
  db = new pg.Pool({ connectionString: database.url, max: 1 });
  upstream = startProc({
    name: "bench-upstream",
    command: process.execPath,
    args: [join(root, "dist", "bench-upstream.js"), "--port", "0", "--chunks", "3", "--chunk-delay-ms", "0"],
    env: { PATH: process.env.PATH },
  });
  const upstreamUrl = await waitForUrl(upstream, 15_000);
  proxy = startProc({
    name: "bench-recording-proxy",
    command: process.execPath,
    args: [join(root, "dist", "bench-bare-proxy.js"), "--upstream", upstreamUrl, "--record"],
    env: {
      PATH: process.env.PATH,
      BENCH_UPSTREAM_KEY: "sk-bench-upstream",
      BENCH_DATABASE_URL: database.url,
      BENCH_PROXY_KEY: KEY,
    },
  });
  proxyUrl = await waitForUrl(proxy, 15_000);
});

afterAll(async () => {
  await proxy?.stop();
  await upstream?.stop();
  await db?.end();
  await database?.drop();
});

const ask = (authorization: string) =>
  request(`${proxyUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ model: "bench-model", messages: [{ role: "user", content: "Say hello." }] }),
  });

async function rows(): Promise<{ n: number; input: number; output: number; models: string[] }> {
  const r = await db.query<{
    n: string;
    input: string | null;
    output: string | null;
    models: string[] | null;
  }>(
    `select count(*) as n, sum(input_tokens) as input, sum(output_tokens) as output,
            array_agg(distinct requested_model) as models
       from usage_records where instance_id like 'bench-recording-proxy-%'`,
  );
  const row = r.rows[0]!;
  return {
    n: Number(row.n),
    input: Number(row.input ?? 0),
    output: Number(row.output ?? 0),
    models: row.models ?? [],
  };
}

test("the recording proxy records one row per request, admits only its key, and cleans up", async () => {
  const refused = await ask("Bearer kg_bench_not-the-key");
  expect(refused.statusCode).toBe(401);
  await refused.body.dump();

  const sent = 25;
  for (let i = 0; i < sent; i++) {
    const res = await ask(`Bearer ${KEY}`);
    expect(res.statusCode).toBe(200);
    await res.body.json();
  }
  // Rows are written in batches in the background: wait until all of them are there.
  await expect.poll(async () => (await rows()).n, { timeout: 30_000, interval: 50 }).toBe(sent);
  const written = await rows();
  // The bench upstream's answer reports 12 prompt tokens, and one completion token per chunk (3).
  expect(written).toEqual({ n: sent, input: 12 * sent, output: 3 * sent, models: ["bench-model"] });

  const status = await proxy.stop(30_000);
  expect(status.code).toBe(0);
  expect((await rows()).n).toBe(0);
});
