// Three gateway processes (A, B, C) sharing Postgres and Redis: a change made through one replica's
// Admin API takes effect on the others at once (revocation, disabling), also while the
// notification link is down, and the live feed on one replica carries the others' requests.
import { performance } from "node:perf_hooks";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../sdk/index.js";
import { startReplicas, type Replica, type ReplicaSet } from "../helpers/replicas.js";
import {
  ECHO_PROVIDERS,
  anthropicMessage,
  chat,
  check,
  instanceWithKey,
  openAiError,
  percentile,
  readyz,
  waitFor,
  type Reply,
  stopReplicasAfter,
} from "./support.js";

let set: ReplicaSet;
let A: Replica;
let B: Replica;
let C: Replica;

beforeAll(async () => {
  set = await startReplicas({ config: { providers: ECHO_PROVIDERS } });
  [A, B, C] = set.replicas as [Replica, Replica, Replica];
});

afterAll(stopReplicasAfter(() => set));

function expectRevokedReply(r: Reply): void {
  expect(r.status, r.text).toBe(401);
  const err = openAiError(r);
  expect(err.code).toBe("invalid_api_key");
  expect(err.message).toMatch(/revoked/i);
}

/**
 * Sends requests back to back until one is refused. Returns the ms from `since` to that refusal
 * and how many requests were still served before it.
 */
async function firstRefusal(
  replica: Replica,
  secret: string,
  since: number,
  timeoutMs: number,
): Promise<{ ms: number; stale: number }> {
  for (let stale = 0; ; stale++) {
    const r = await chat(replica.url, secret);
    const at = performance.now();
    if (r.status === 401) {
      expectRevokedReply(r);
      return { ms: at - since, stale };
    }
    expect(r.status, `replica ${replica.name} served an unexpected answer: ${r.text}`).toBe(200);
    if (at - since > timeoutMs) throw new Error(`replica ${replica.name} still serves a revoked key`);
  }
}

describe("invalidations across replicas", () => {
  it("a key revoked through A is refused by B and C within milliseconds, with next to no answers served after the revocation (50 revocations)", async () => {
    await A.admin.createInstance({ instanceId: "revoke-agent" });
    const samples: number[] = [];
    let staleTotal = 0;
    let slowestRpc = 0;
    for (let i = 0; i < 50; i++) {
      const { key, secret } = await A.admin.createKey({ instanceId: "revoke-agent" });
      // Used on B and C first, so both hold it in their key cache.
      for (const r of [B, C]) expect((await chat(r.url, secret)).status).toBe(200);
      const sentAt = performance.now();
      await A.admin.revokeKey({ id: key!.id });
      const revokedAt = performance.now();
      slowestRpc = Math.max(slowestRpc, revokedAt - sentAt);
      const [onB, onC] = await Promise.all([B, C].map((r) => firstRefusal(r, secret, revokedAt, 2_000)));
      samples.push(Math.max(onB!.ms, onC!.ms));
      staleTotal += onB!.stale + onC!.stale;
    }
    const p50 = percentile(samples, 50);
    const p90 = percentile(samples, 90);
    const p99 = percentile(samples, 99);
    console.log(
      `revocation propagation: p50=${p50.toFixed(2)} ms p90=${p90.toFixed(2)} ms p99=${p99.toFixed(2)} ms over 50`,
    );
    // Context for the numbers: each sample ends with a refused request's round trip, so on a
    // loaded machine that round trip, not the notification, can dominate.
    const slowest = [...samples].sort((a, b) => b - a).slice(0, 5);
    console.log(
      `  (stale answers after RevokeKey returned: ${staleTotal} over 100 replica-revocations;` +
        ` slowest: ${slowest.map((ms) => ms.toFixed(1)).join(", ")} ms; slowest RevokeKey: ${slowestRpc.toFixed(0)} ms)`,
    );
    // Every sample is bounded by firstRefusal's 2 s. Time bounds are on the median, not the
    // slowest samples: a host that stalls the test's own process for a second (seen on a starved
    // VM, where RevokeKey itself took 1.3 s) stretches a few samples however fast the notification
    // was. What a stall cannot fake is the count of requests served with the revoked key: a replica
    // that learnt of revocations by cache expiry or polling would serve one back-to-back request
    // after another until it did, tens per revocation.
    expect(samples).toHaveLength(50);
    expect(p50).toBeLessThanOrEqual(50);
    expect(staleTotal).toBeLessThanOrEqual(10);
  });

  it("disabling an instance through A refuses its very next request on every replica; enabling lets it through", async () => {
    const { instanceId, secret } = await instanceWithKey(A.admin, "disable-agent");
    const setDisabled = (disabled: boolean) =>
      A.admin.updateInstance({ instance: { id: instanceId, disabled }, updateMask: { paths: ["disabled"] } });
    const statuses = (replies: Reply[]) => replies.map((r, i) => `${set.replicas[i]!.name} ${r.status}`);
    for (let cycle = 0; cycle < 5; cycle++) {
      const warm = await Promise.all(set.replicas.map((r) => chat(r.url, secret)));
      expect(statuses(warm)).toEqual(["A 200", "B 200", "C 200"]);

      await setDisabled(true);
      const refused = await Promise.all(set.replicas.map((r) => chat(r.url, secret)));
      expect(statuses(refused), `cycle ${cycle}: first request after disabling`).toEqual([
        "A 403",
        "B 403",
        "C 403",
      ]);
      for (const r of refused) expect(openAiError(r).message).toMatch(/disabled/i);
      // The same refusal in the Anthropic client's own format.
      const viaAnthropic = await anthropicMessage(C.url, secret);
      expect(viaAnthropic.status).toBe(403);
      expect(viaAnthropic.body).toMatchObject({ type: "error", error: { type: "permission_error" } });

      await setDisabled(false);
      const again = await Promise.all(set.replicas.map((r) => chat(r.url, secret)));
      expect(statuses(again), `cycle ${cycle}: first request after enabling`).toEqual([
        "A 200",
        "B 200",
        "C 200",
      ]);
    }
  });
});

describe("notification link loss", () => {
  let db: pg.Client;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: set.databaseUrl, application_name: "keygate-replica-test" });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
  });

  const listeners = async (): Promise<number> => {
    const r = await db.query(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'keygate-listener' AND datname = $1",
      [set.databaseName],
    );
    return r.rowCount ?? 0;
  };

  /**
   * Terminates every listener backend of the test database and waits until Postgres no longer
   * lists them: from then on the link is down, whatever the replicas have noticed yet.
   */
  const terminateListeners = async (): Promise<number> => {
    const r = await db.query<{ pid: number; ok: boolean }>(
      "SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'keygate-listener' AND datname = $1",
      [set.databaseName],
    );
    const pids = r.rows.filter((row) => row.ok).map((row) => row.pid);
    await waitFor(
      "the terminated listener backends to exit",
      async () => {
        const left = await db.query("SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])", [pids]);
        return left.rowCount === 0 ? true : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 1 },
    );
    return pids.length;
  };

  const allReconnected = () =>
    waitFor("every listener to reconnect", async () => {
      if ((await listeners()) !== 3) return undefined;
      const states = await Promise.all(set.replicas.map((r) => readyz(r.url)));
      return states.every((s) => s.status === 200 && check(s, "notifications") === true) ? true : undefined;
    });

  it("a key revoked through A while the link is down is refused by B and C before and after the listener reconnects", async () => {
    await A.admin.createInstance({ instanceId: "link-agent" });
    expect(await listeners()).toBe(3);

    // The link comes back within tens of ms. A replica's refusal counts as "before reconnecting"
    // when it still reports the link down right after refusing: it could not have heard of the
    // revocation, so it must have checked the key against the database.
    const refusedWhileDown = new Set<string>();
    const revoked: string[] = [];
    for (let round = 0; round < 10 && refusedWhileDown.size < 2; round++) {
      const { key, secret } = await A.admin.createKey({ instanceId: "link-agent" });
      for (const r of [B, C]) expect((await chat(r.url, secret)).status).toBe(200);

      expect(await terminateListeners()).toBe(3);
      await A.admin.revokeKey({ id: key!.id });
      revoked.push(secret);
      // No polling: the first request after the revocation must already be refused.
      const replies = await Promise.all([B, C].map((r) => chat(r.url, secret)));
      const states = await Promise.all([B, C].map((r) => readyz(r.url)));
      for (const r of replies) expectRevokedReply(r);
      states.forEach((s, i) => {
        if (check(s, "notifications") === false) refusedWhileDown.add(i === 0 ? "B" : "C");
      });
      await allReconnected();
    }
    expect([...refusedWhileDown].sort(), "replicas caught refusing with the link still down").toEqual([
      "B",
      "C",
    ]);

    // Reconnected: the keys revoked during the outage stay refused, and notifications work again.
    for (const secret of revoked) {
      for (const r of [B, C]) expectRevokedReply(await chat(r.url, secret));
    }
    const { key, secret } = await A.admin.createKey({ instanceId: "link-agent" });
    for (const r of [B, C]) expect((await chat(r.url, secret)).status).toBe(200);
    await A.admin.revokeKey({ id: key!.id });
    const at = performance.now();
    const times = await Promise.all([B, C].map((r) => firstRefusal(r, secret, at, 2_000)));
    for (const t of times) expect(t.ms).toBeLessThanOrEqual(100);
  });
});

describe("live request feed across replicas", () => {
  it("WatchRequests on A receives the records of requests served by B and C", async () => {
    const { instanceId, keyId, secret } = await instanceWithKey(A.admin, "watched-agent");
    const ac = new AbortController();
    const records: RequestRecord[] = [];
    let wake: (() => void) | undefined;
    const stream = A.admin.watchRequests({ filter: { instanceIds: [instanceId] } }, { signal: ac.signal });
    const pump = (async () => {
      try {
        for await (const ev of stream) {
          if (ev.event.case === "record") {
            records.push(ev.event.value);
            wake?.();
          }
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    })();

    // B and C publish once they see a subscriber on the shared channel; keep sending until the
    // feed on A has carried a request from each of them.
    const sent = new Map<string, string>();
    const fromReplica = (name: string) =>
      records.find((r) => r.replicaId === name && sent.get(r.id) === name);
    try {
      await waitFor(
        "records from B and C on A's feed",
        async () => {
          if (fromReplica("B") && fromReplica("C")) return true;
          for (const r of [B, C]) {
            const reply = await chat(r.url, secret);
            expect(reply.status).toBe(200);
            sent.set(String(reply.headers["x-request-id"]), r.name);
          }
          // Wait for the next record (or a short while) before sending again.
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 250);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          return fromReplica("B") && fromReplica("C") ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 0 },
      );
    } finally {
      ac.abort();
      await pump;
    }
    for (const name of ["B", "C"]) {
      const rec = fromReplica(name)!;
      expect(rec).toMatchObject({
        instanceId,
        keyId,
        statusCode: 200,
        requestedModel: "echo-1",
        api: "openai.chat",
        replicaId: name,
      });
      // The feed never carries the secret.
      expect(
        JSON.stringify(rec, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      ).not.toContain(secret);
    }
  });
});
