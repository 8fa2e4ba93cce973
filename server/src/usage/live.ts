// The live request feed behind WatchRequests. Each completed request's record is offered to every
// watcher; a watcher that reads slowly has a bounded buffer and is told how many records it
// missed, so it can never slow the hot path. With Redis, records travel between replicas on a
// pub/sub channel, and a replica only publishes while somebody, somewhere, is watching.
import type { Redis } from "ioredis";
import type { Logger } from "../log/logger.js";
import type { UsageRecord } from "./record.js";

export type LiveEvent = { record: UsageRecord } | { missed: number };

export interface LiveFilter {
  instanceIds?: string[];
  keyIds?: string[];
  providerIds?: string[];
  models?: string[];
  /** "2xx", "4xx", "5xx", or an error class such as client_closed. */
  statuses?: string[];
}

export interface LiveHub {
  /** Called for every completed request. Never blocks, never throws. */
  publish(rec: UsageRecord): void;
  /**
   * Registers the watcher at once; `ready` resolves when it also receives other replicas' records.
   * The events end when the signal aborts or the hub closes.
   */
  watch(filter: LiveFilter, signal: AbortSignal): AsyncIterable<LiveEvent> & { ready: Promise<void> };
  watchers(): number;
  /** Ends every watch (shutdown): their streams finish, so the server need not wait for them. */
  close(): Promise<void>;
}

function matches(f: LiveFilter, r: UsageRecord): boolean {
  if (f.instanceIds?.length && !f.instanceIds.includes(r.instanceId)) return false;
  if (f.keyIds?.length && !f.keyIds.includes(r.keyId)) return false;
  if (f.providerIds?.length && !f.providerIds.includes(r.providerId)) return false;
  if (f.models?.length && !f.models.includes(r.requestedModel) && !f.models.includes(r.servedModel))
    return false;
  if (f.statuses?.length) {
    const cls = `${Math.floor(r.statusCode / 100)}xx`;
    if (!f.statuses.includes(cls) && !(r.errorClass && f.statuses.includes(r.errorClass))) return false;
  }
  return true;
}

interface Watcher {
  filter: LiveFilter;
  queue: UsageRecord[];
  missed: number;
  wake?: () => void;
}

/** Records cross Redis as JSON; dates come back as strings. */
function revive(json: string): UsageRecord | undefined {
  try {
    const r = JSON.parse(json) as UsageRecord & { time: string };
    return { ...r, time: new Date(r.time) };
  } catch {
    return undefined;
  }
}

export function createLiveHub(opts: {
  bufferSize?: number;
  /** Pub/sub channel shared by the replicas of one deployment. */
  channel?: string;
  /** Needed with Redis, to report subscription failures. */
  logger?: Logger;
  /** Publisher and a dedicated subscriber connection; absent means this process only. */
  redis?: { pub: Redis; sub: Redis };
}): LiveHub {
  const bufferSize = opts.bufferSize ?? 1000;
  const CHANNEL = opts.channel ?? "keygate:requests";
  const watchers = new Set<Watcher>();
  let remoteWatchers = false;
  let subscribed = false;
  let closed = false;

  function deliver(rec: UsageRecord): void {
    // Closed: the feeds are ending, and are handed what they hold, but nothing more.
    if (closed) return;
    for (const w of watchers) {
      if (!matches(w.filter, rec)) continue;
      if (w.queue.length >= bufferSize) {
        w.queue.shift();
        w.missed++;
      }
      w.queue.push(rec);
      w.wake?.();
    }
  }

  const redis = opts.redis;
  let poll: NodeJS.Timeout | undefined;
  if (redis) {
    redis.sub.on("message", (channel: string, message: string) => {
      if (channel !== CHANNEL) return;
      const rec = revive(message);
      if (rec) deliver(rec);
    });
    // Publishing costs a serialisation per request; skip it while nobody is subscribed anywhere.
    const check = (): void => {
      redis.pub
        .pubsub("NUMSUB", CHANNEL)
        .then((r) => {
          remoteWatchers = Number((r as [string, number])[1] ?? 0) > 0;
        })
        .catch(() => {
          remoteWatchers = false;
        });
    };
    check();
    poll = setInterval(check, 1000);
    poll.unref();
  }

  let subscription: Promise<void> = Promise.resolve();
  /** Resolves once Redis confirmed the (un)subscription, so a watcher knows it is live everywhere. */
  function setSubscribed(want: boolean): Promise<void> {
    if (!redis || want === subscribed) return subscription;
    subscribed = want;
    const op = want ? redis.sub.subscribe(CHANNEL) : redis.sub.unsubscribe(CHANNEL);
    subscription = op.then(
      () => {
        if (want) remoteWatchers = true;
      },
      (err: Error) => opts.logger?.warn({ err: err.message }, "live feed subscription failed"),
    );
    return subscription;
  }

  return {
    publish(rec) {
      if (redis && (remoteWatchers || subscribed)) {
        redis.pub.publish(CHANNEL, JSON.stringify(rec)).catch(() => {
          // Redis is down: local watchers still get this replica's records.
          if (watchers.size > 0) deliver(rec);
        });
        return;
      }
      if (watchers.size > 0) deliver(rec);
    },
    watch(filter, signal) {
      // Registered now, not on the first read: once watch() returns, no record can slip past.
      const w: Watcher = { filter, queue: [], missed: 0 };
      watchers.add(w);
      // Redis may be down: never hold the confirmation longer than a moment for it.
      const ready = Promise.race([
        setSubscribed(true),
        new Promise<void>((r) => setTimeout(r, 1000).unref()),
      ]);
      let removed = false;
      // Runs on abort as well, so a stream closed before its first read is forgotten too.
      const remove = (): void => {
        if (removed) return;
        removed = true;
        signal.removeEventListener("abort", onAbort);
        watchers.delete(w);
        if (watchers.size === 0) void setSubscribed(false);
      };
      const onAbort = (): void => {
        w.wake?.();
        remove();
      };
      // A client that left before the handler got here never fires "abort" again.
      if (signal.aborted) remove();
      else signal.addEventListener("abort", onAbort);
      async function* events(): AsyncGenerator<LiveEvent> {
        try {
          // Once the hub closes, what is queued (and the count of what was missed) still goes out.
          while (!signal.aborted && (!closed || w.missed > 0 || w.queue.length > 0)) {
            if (w.missed > 0) {
              const missed = w.missed;
              w.missed = 0;
              yield { missed };
              continue;
            }
            const next = w.queue.shift();
            if (next) {
              yield { record: next };
              continue;
            }
            await new Promise<void>((resolve) => (w.wake = resolve));
            w.wake = undefined;
          }
        } finally {
          remove();
        }
      }
      return Object.assign(events(), { ready });
    },
    watchers: () => watchers.size,
    async close() {
      closed = true;
      if (poll) clearInterval(poll);
      for (const w of watchers) w.wake?.();
    },
  };
}
