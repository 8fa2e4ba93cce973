// The bootstrap admin token: from KEYGATE_ADMIN_TOKEN, else generated once into the data directory.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeygateConfig } from "../config/types.js";
import { generateAdminToken } from "./virtual-key.js";

export interface BootstrapToken {
  token: string;
  /** True when this start created the token file (print where to find it, never the token in logs). */
  generated: boolean;
}

export const ADMIN_TOKEN_FILE = "admin.token";

export function ensureAdminToken(cfg: KeygateConfig, dataDir: string = cfg.database.dataDir): BootstrapToken {
  if (cfg.admin.token) return { token: cfg.admin.token, generated: false };
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  let emptyFile = false;
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token) return { token, generated: false };
    emptyFile = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read ${file}`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { secret } = generateAdminToken();
  try {
    writeFileSync(file, secret + "\n", { mode: 0o600, flag: emptyFile ? "w" : "wx" });
    return { token: secret, generated: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot write ${file}`);
    // Another process won the race; use its token.
    return { token: readFileSync(file, "utf8").trim(), generated: false };
  }
}
