// The providers the hot path routes to: read-only ones from the config file merged with ones
// created through the Admin API, whose credentials are unsealed here and kept only in memory.
import type { Kysely } from "kysely";
import {
  PROVIDER_TYPES,
  type KeygateConfig,
  type ProviderType,
  type TimeoutsConfig,
} from "../config/types.js";
import { fingerprint } from "../secrets/fingerprint.js";
import { unseal, type Keyring } from "../secrets/seal.js";
import { listProviders } from "../store/providers.js";
import type { Database, ProviderRow } from "../store/schema.js";

export interface ResolvedProvider {
  id: string;
  type: ProviderType;
  /** Absent means the adapter's default. */
  baseUrl?: string;
  models: string[];
  isDefault: boolean;
  weight: number;
  timeouts: TimeoutsConfig;
  headers: Record<string, string>;
  credential?: string;
  fingerprint: string;
  source: "config" | "api";
  createTime?: Date;
  updateTime?: Date;
  /** Set when a stored credential could not be unsealed (e.g. its master key is not configured). */
  credentialError?: string;
}

export interface ProviderCatalog {
  list(): ResolvedProvider[];
  get(id: string): ResolvedProvider | undefined;
  /** Re-reads API providers from the database (after a local change or a change notification). */
  reload(): Promise<void>;
}

/** Used where neither the provider nor the config sets a timeout. */
export const DEFAULT_TIMEOUTS: Readonly<TimeoutsConfig> = Object.freeze({
  connectMs: 5_000,
  firstByteMs: 60_000,
  idleMs: 60_000,
  totalMs: 600_000,
});

function fromConfig(id: string, p: KeygateConfig["providers"][string]): ResolvedProvider {
  return {
    id,
    type: p.type,
    ...(p.baseUrl ? { baseUrl: p.baseUrl } : {}),
    models: [...p.models],
    isDefault: p.default,
    weight: p.weight,
    timeouts: { ...p.timeouts },
    headers: { ...p.headers },
    ...(p.apiKey ? { credential: p.apiKey } : {}),
    fingerprint: fingerprint(p.apiKey),
    source: "config",
  };
}

function isProviderType(t: string): t is ProviderType {
  return (PROVIDER_TYPES as readonly string[]).includes(t);
}

function positiveOr(v: number | undefined, fallback: number): number {
  return v !== undefined && v > 0 ? v : fallback;
}

export function resolveApiProvider(row: ProviderRow, keyring: Keyring): ResolvedProvider | undefined {
  // A type this version does not know cannot be served; skip it rather than fail the whole load.
  if (!isProviderType(row.type)) return undefined;
  let credential: string | undefined;
  let credentialError: string | undefined;
  if (row.sealed_credential) {
    try {
      credential = unseal(keyring, row.id, row.sealed_credential);
    } catch (err) {
      credentialError = err instanceof Error ? err.message : "credential could not be unsealed";
    }
  }
  const t = row.timeouts;
  return {
    id: row.id,
    type: row.type,
    ...(row.base_url ? { baseUrl: row.base_url } : {}),
    models: [...row.models],
    isDefault: row.is_default,
    weight: row.weight,
    timeouts: {
      connectMs: positiveOr(t.connectMs, DEFAULT_TIMEOUTS.connectMs),
      firstByteMs: positiveOr(t.firstByteMs, DEFAULT_TIMEOUTS.firstByteMs),
      idleMs: positiveOr(t.idleMs, DEFAULT_TIMEOUTS.idleMs),
      totalMs: positiveOr(t.totalMs, DEFAULT_TIMEOUTS.totalMs),
    },
    headers: {},
    ...(credential !== undefined ? { credential } : {}),
    fingerprint: row.credential_fingerprint,
    source: "api",
    createTime: row.create_time,
    updateTime: row.update_time,
    ...(credentialError ? { credentialError } : {}),
  };
}

export interface ProviderCatalogDeps {
  db: Kysely<Database>;
  config: KeygateConfig;
  keyring: Keyring;
}

/** Creates the catalog with config providers only; call reload() once to add the database's. */
export function createProviderCatalog(deps: ProviderCatalogDeps): ProviderCatalog {
  const configured = Object.entries(deps.config.providers).map(([id, p]) => fromConfig(id, p));
  const configIds = new Set(configured.map((p) => p.id));
  let all: ResolvedProvider[] = configured;
  let byId = new Map(all.map((p) => [p.id, p]));
  let inflight: Promise<void> | undefined;
  let again = false;

  async function load(): Promise<void> {
    const rows = await listProviders(deps.db);
    const api: ResolvedProvider[] = [];
    for (const row of rows) {
      // Config ids win; the Admin API refuses to create such a row, so this only guards old data.
      if (configIds.has(row.id)) continue;
      const p = resolveApiProvider(row, deps.keyring);
      if (p) api.push(p);
    }
    all = [...configured, ...api];
    byId = new Map(all.map((p) => [p.id, p]));
  }

  return {
    list: () => all,
    get: (id) => byId.get(id),
    // Coalesces concurrent reloads; a reload requested mid-flight runs once more afterwards.
    reload() {
      if (inflight) {
        again = true;
        return inflight;
      }
      inflight = (async () => {
        try {
          do {
            again = false;
            await load();
          } while (again);
        } finally {
          inflight = undefined;
        }
      })();
      return inflight;
    },
  };
}
