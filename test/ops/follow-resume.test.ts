// `gwctl requests --follow` through a restart of the gateway, as in a rolling deploy: when the
// gateway shuts down, the feed ends with Unavailable (or, when its process dies, the connection
// drops), and gwctl says so on stderr, reconnects once the address answers again (here a new
// gateway on the same port and database), and goes on printing records. stdout holds only the
// records.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBinaries } from "../cli/harness.js";
import { issueKey } from "../facade/harness.js";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { createAdminClient } from "../../sdk/index.js";
import { at, chat, followWithGwctl, spawnKeygate, waitFor, waitForWatchers } from "./harness.js";

let db: ScratchDatabase;
const gateways: TestGateway[] = [];

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  db = await createScratchDatabase();
  await buildBinaries();
});
afterAll(async () => {
  for (const g of gateways) await g.close();
  await db?.drop();
});

describe("gwctl requests --follow", () => {
  it("reconnects when the gateway restarts and goes on printing records", async () => {
    const port = await freePort();
    const adminToken = `kg_admin_test_${randomBytes(16).toString("hex")}`;
    const env = { KEYGATE_PORT: String(port), KEYGATE_MASTER_KEY: randomBytes(32).toString("base64") };
    const start = async (): Promise<TestGateway> => {
      const g = await startTestGateway({ databaseUrl: db.url, adminToken, env });
      gateways.push(g);
      return g;
    };

    const first = await start();
    const key = await issueKey(first.admin);
    const feed = followWithGwctl(first.url, adminToken, key.instanceId);
    const { out, err } = feed;
    try {
      await waitForWatchers(first.url, 1);
      const before = await chat(first.url, key.secret, "echo-1", "before the restart");
      await waitFor("the first record", () => (out.length >= 1 ? true : undefined));

      await first.close();
      await waitFor("gwctl to report the interruption", () =>
        err().includes("feed interrupted") ? true : undefined,
      );
      expect(err()).toContain("shutting down");

      const second = await start();
      await waitForWatchers(second.url, 1);
      const after = await chat(second.url, key.secret, "echo-1", "after the restart");
      await waitFor("the second record", () => (out.length >= 2 ? true : undefined));

      expect(out.map((l) => at(JSON.parse(l) as unknown, "record", "id"))).toEqual([before.id, after.id]);
      expect(err()).toContain("feed resumed");
    } finally {
      feed.child.kill("SIGINT");
    }
    expect(await feed.exited, err()).toBe(0);
    expect(err()).not.toContain(adminToken);
  });

  it("reconnects after the gateway's process dies without shutting down", async () => {
    const port = await freePort();
    const adminToken = `kg_admin_test_${randomBytes(16).toString("hex")}`;
    const masterKey = randomBytes(32).toString("base64");
    const crashing = await spawnKeygate({ config: {}, databaseUrl: db.url, port, adminToken, masterKey });
    try {
      const key = await issueKey(createAdminClient({ baseUrl: crashing.url, token: adminToken }));
      const feed = followWithGwctl(crashing.url, adminToken, key.instanceId);
      const { out, err } = feed;
      try {
        await waitForWatchers(crashing.url, 1);
        crashing.child.kill("SIGKILL");
        await crashing.exited;
        await waitFor("gwctl to report the interruption", () =>
          err().includes("feed interrupted") ? true : undefined,
        );

        const second = await startTestGateway({
          databaseUrl: db.url,
          adminToken,
          env: { KEYGATE_PORT: String(port), KEYGATE_MASTER_KEY: masterKey },
        });
        gateways.push(second);
        await waitForWatchers(second.url, 1);
        const after = await chat(second.url, key.secret, "echo-1", "after the crash");
        await waitFor("the record", () => (out.length >= 1 ? true : undefined));
        expect(out.map((l) => at(JSON.parse(l) as unknown, "record", "id"))).toEqual([after.id]);
        expect(err()).toContain("feed resumed");
      } finally {
        feed.child.kill("SIGINT");
      }
      expect(await feed.exited, err()).toBe(0);
    } finally {
      await crashing.stop();
    }
  });
});
