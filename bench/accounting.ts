// Checks that keygate recorded every request it served.
//
// Two independent counts are compared for one bench instance (each measured run has an instance
// of its own, so nothing else is mixed in):
//   served  – keygate_requests_total{instance=...} summed over labels, from keygate's /metrics: the
//             requests keygate completed, counted in memory as each one finishes;
//   records – rows in usage_records for that instance, read from Postgres directly when a
//             database URL is given, else through the Admin API's QueryUsage totals.
// wrk cannot give the exact figure itself: requests still in flight when its duration ends are
// completed by keygate but not counted by wrk. So served is read after the usage queue has drained
// (GetStatus usage_queue_depth = 0) and read again after counting records; only a stable pair is
// accepted, which makes records == served an exact test. wrk's own count then bounds it:
// wrk requests <= served <= wrk requests + connections.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import type { AdminClient } from "../sdk/client.js";

export interface Settled {
  /** Undefined when /metrics does not report the counter. */
  served: number | undefined;
  records: number;
}

export interface Accounting {
  /**
   * Counts once the figures are stable. With `atLeast`, also waits (bounded) until that many
   * requests have completed: requests whose client went away finish a moment later.
   */
  settle(instanceId: string, atLeast?: number): Promise<Settled>;
  /** Waits until every queued usage record has been written. */
  drain(): Promise<void>;
}

const DRAIN_TIMEOUT_MS = 300_000;
const POLL_MS = 100;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every replica reports an empty usage queue. `admin` must open a new connection per
 * call when replicas > 1 (see fresh-fetch.ts), so that its calls reach each worker in turn; each
 * status names its replica, and only the latest report of every replica counts.
 */
export async function waitForDrain(
  admin: AdminClient,
  replicas = 1,
  timeoutMs = DRAIN_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const drained = new Map<string, boolean>();
  for (;;) {
    const s = await admin.getStatus({});
    const empty = s.usageQueueDepth === 0n && s.usageBuffered === 0n;
    drained.set(s.replicaId, empty);
    if (drained.size >= replicas && [...drained.values()].every(Boolean)) return;
    if (Date.now() > deadline) {
      const seen = `${drained.size}/${replicas} replicas seen`;
      throw new Error(
        `usage queue did not drain in ${timeoutMs} ms (${seen}, last depth ${s.usageQueueDepth})`,
      );
    }
    // Only a replica with records still queued is worth waiting for; otherwise ask the next one.
    if (!empty) await pause(POLL_MS);
  }
}

/** Sum of keygate_requests_total samples carrying instance="<id>". */
export function requestsFromMetrics(text: string, instanceId: string): number | undefined {
  let found = false;
  let sum = 0;
  const label = `instance="${instanceId}"`;
  for (const line of text.split("\n")) {
    const m = line.match(/^keygate_requests_total\{([^}]*)\}\s+(\S+)/);
    if (!m || !m[1]!.split(",").includes(label)) continue;
    found = true;
    sum += Number(m[2]);
  }
  return found ? sum : undefined;
}

async function served(url: string, instanceId: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) return undefined;
  return requestsFromMetrics(await res.text(), instanceId);
}

function recordCounter(admin: AdminClient, databaseUrl: string | undefined): (id: string) => Promise<number> {
  if (databaseUrl) {
    return async (id) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const r = await client.query<{ n: string }>(
          "select count(*)::text as n from usage_records where instance_id = $1",
          [id],
        );
        return Number(r.rows[0]?.n ?? 0);
      } finally {
        await client.end();
      }
    };
  }
  return async (id) => {
    const res = await admin.queryUsage({
      startTime: timestampFromDate(new Date(Date.now() - 24 * 3600_000)),
      filter: { instanceIds: [id] },
    });
    return res.rows.reduce((n, row) => n + Number(row.requests), 0);
  };
}

export interface AccountingOptions {
  databaseUrl?: string;
  /** Worker processes behind the URL (keygate --workers); 1 otherwise. */
  replicas: number;
  /**
   * Read served counts from /metrics. Off for --workers: each scrape reaches one worker, whose
   * counter covers only its own share.
   */
  metrics: boolean;
}

export function createAccounting(url: string, admin: AdminClient, o: AccountingOptions): Accounting {
  const records = recordCounter(admin, o.databaseUrl);
  const drain = (): Promise<void> => waitForDrain(admin, o.replicas);
  return {
    drain,
    async settle(instanceId, atLeast = 0) {
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      for (;;) {
        const before = o.metrics ? await served(url, instanceId) : undefined;
        await drain();
        const n = await records(instanceId);
        const after = o.metrics ? await served(url, instanceId) : undefined;
        const done = (after ?? n) >= atLeast && before === after;
        if (done || Date.now() > deadline) return { served: after, records: n };
        await pause(POLL_MS);
      }
    },
  };
}
