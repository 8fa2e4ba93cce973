// Authenticates a presented secret from memory. A miss loads the key from the database once
// (concurrent misses for the same key share one load); invalidations from any replica evict
// entries. While invalidations cannot be trusted (notification link down) every lookup goes
// to the database instead, so a revoked key is never served from a stale entry.
//
// Secrets the database does not know are remembered too (bounded), so an agent retrying with a
// deleted or mistyped key costs one read, not one per request. That is safe without
// invalidation: every secret is random and generated when its key is created, so no secret can
// have been presented, and found unknown, before its key existed.
import type { StaticTokenConfig } from "../config/types.js";
import type { KeyForAuth } from "../store/keys.js";
import { hashKey } from "../secrets/virtual-key.js";
import { principalFromKey, principalFromStatic, type Principal } from "./principal.js";

export type KeyLoader = (hash: string) => Promise<KeyForAuth | undefined>;

export interface KeyCache {
  /** Sync when cached; a promise on a miss. */
  resolve(secret: string): Principal | undefined | Promise<Principal | undefined>;
  evictKey(keyId: string): void;
  evictInstance(instanceId: string): void;
  clear(): void;
  /** False while invalidations may be missed: lookups then bypass the cache. */
  setTrusted(trusted: boolean): void;
  trusted(): boolean;
  size(): number;
}

export function createKeyCache(opts: {
  load: KeyLoader;
  staticTokens: StaticTokenConfig[];
  maxEntries?: number;
  /** Unknown secrets remembered (oldest forgotten first). */
  maxUnknown?: number;
}): KeyCache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const maxUnknown = opts.maxUnknown ?? 10_000;
  const statics = new Map<string, Principal>();
  for (const t of opts.staticTokens) statics.set(hashKey(t.token), principalFromStatic(t));

  const entries = new Map<string, Principal>();
  const unknown = new Set<string>();
  const inflight = new Map<string, Promise<Principal | undefined>>();
  // Bumped by every eviction: a load that started before an eviction must not repopulate the cache.
  let epoch = 0;
  let isTrusted = true;

  function remember(hash: string, p: Principal): void {
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(hash, p);
  }

  function rememberUnknown(hash: string): void {
    if (unknown.size >= maxUnknown) {
      const oldest = unknown.values().next();
      if (!oldest.done) unknown.delete(oldest.value);
    }
    unknown.add(hash);
  }

  function load(hash: string): Promise<Principal | undefined> {
    const pending = inflight.get(hash);
    if (pending) return pending;
    const startedAt = epoch;
    const p = opts
      .load(hash)
      .then((found) => {
        if (!found) {
          if (isTrusted && startedAt === epoch) rememberUnknown(hash);
          return undefined;
        }
        const principal = principalFromKey(found);
        if (isTrusted && startedAt === epoch) remember(hash, principal);
        return principal;
      })
      .finally(() => inflight.delete(hash));
    inflight.set(hash, p);
    return p;
  }

  return {
    resolve(secret) {
      const hash = hashKey(secret);
      const s = statics.get(hash);
      if (s) return s;
      if (isTrusted) {
        const hit = entries.get(hash);
        if (hit) return hit;
        if (unknown.has(hash)) return undefined;
      }
      return load(hash);
    },
    evictKey(keyId) {
      epoch++;
      for (const [h, p] of entries) if (p.id === keyId) entries.delete(h);
    },
    evictInstance(instanceId) {
      epoch++;
      for (const [h, p] of entries) if (p.instanceId === instanceId) entries.delete(h);
    },
    clear() {
      epoch++;
      entries.clear();
      unknown.clear();
    },
    setTrusted(trusted) {
      if (trusted !== isTrusted) {
        epoch++;
        entries.clear();
        unknown.clear();
      }
      isTrusted = trusted;
    },
    trusted: () => isTrusted,
    size: () => entries.size,
  };
}
