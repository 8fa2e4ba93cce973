// Loads the master keyring: from KEYGATE_MASTER_KEY, or in embedded mode from a generated key file.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeygateConfig } from "../config/types.js";
import { createKeyring, type Keyring } from "./seal.js";

export const MASTER_KEY_REQUIRED =
  "KEYGATE_MASTER_KEY is required when DATABASE_URL is set (32 random bytes, base64: openssl rand -base64 32)";

function decodeKey(b64: string, what: string): Buffer {
  const trimmed = b64.trim();
  const key = Buffer.from(trimmed, "base64");
  // Round-trip check rejects non-base64 text that Buffer.from would silently skip.
  if (key.length !== 32 || key.toString("base64").replace(/=+$/, "") !== trimmed.replace(/=+$/, "")) {
    throw new Error(`${what} must be base64 of exactly 32 bytes (openssl rand -base64 32)`);
  }
  return key;
}

/**
 * The keyring for sealing provider credentials. With `embedded` (PGlite) and no configured
 * key, `<dataDir>/master.key` is created (0600) on first start and read afterwards.
 */
export function loadKeyring(cfg: KeygateConfig, embedded: boolean): Keyring {
  const previous = Object.entries(cfg.secrets.previousKeys).map(([id, b64]) =>
    decodeKey(b64, `secrets.previousKeys.${id}`),
  );
  if (cfg.secrets.masterKey !== undefined) {
    return createKeyring(decodeKey(cfg.secrets.masterKey, "KEYGATE_MASTER_KEY"), previous);
  }
  if (!embedded) throw new Error(MASTER_KEY_REQUIRED);
  const file = join(cfg.database.dataDir, "master.key");
  let b64: string;
  try {
    b64 = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read ${file}`);
    mkdirSync(cfg.database.dataDir, { recursive: true, mode: 0o700 });
    b64 = randomBytes(32).toString("base64");
    // "wx" fails if another process created the file meanwhile; then read theirs.
    try {
      writeFileSync(file, b64 + "\n", { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot write ${file}`);
      b64 = readFileSync(file, "utf8");
    }
  }
  return createKeyring(decodeKey(b64, file), previous);
}
