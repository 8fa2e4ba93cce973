// last_used_at is coalesced: the hot path notes the key in a map, and one statement per
// interval writes the latest time of every key used since the last write.
import type { Logger } from "../log/logger.js";

export interface LastUsedTracker {
  touch(keyId: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createLastUsedTracker(opts: {
  write: (used: Map<string, Date>) => Promise<void>;
  intervalMs: number;
  logger: Logger;
}): LastUsedTracker {
  let pending = new Map<string, Date>();
  const flush = async (): Promise<void> => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await opts.write(batch);
    } catch (err) {
      // Keep the newest times for the next round; last_used_at is informational.
      for (const [k, v] of batch) if (!pending.has(k)) pending.set(k, v);
      opts.logger.warn({ err: (err as Error).message }, "could not write last_used_at");
    }
  };
  const timer = setInterval(() => void flush(), opts.intervalMs);
  timer.unref();
  return {
    touch(keyId) {
      pending.set(keyId, new Date());
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
