// Virtual keys and admin tokens: 256-bit random secrets with a recognisable prefix; only the hash is stored.
import { createHash, hash, randomBytes } from "node:crypto";

export const VIRTUAL_KEY_PREFIX = "kg_live_";
export const ADMIN_TOKEN_PREFIX = "kg_admin_";
/** Characters of the secret kept for display ("kg_live_ab12"). */
const DISPLAY_PREFIX_LENGTH = 12;

export interface GeneratedSecret {
  /** Shown once, never stored. */
  secret: string;
  /** Hex SHA-256 of the secret. */
  hash: string;
  /** The first characters, for recognition in logs and UIs. */
  prefix: string;
}

// One-shot hashing (Node >= 20.12) is about twice as fast as a Hash object; this runs per request.
const sha256Hex: (s: string) => string =
  typeof hash === "function"
    ? (s) => hash("sha256", s, "hex")
    : (s) => createHash("sha256").update(s, "utf8").digest("hex");

/** Hex SHA-256 of a secret, as stored and as looked up. */
export function hashKey(secret: string): string {
  return sha256Hex(secret);
}

function generate(kind: string): GeneratedSecret {
  const secret = kind + randomBytes(32).toString("base64url");
  return { secret, hash: hashKey(secret), prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH) };
}

export function generateVirtualKey(): GeneratedSecret {
  return generate(VIRTUAL_KEY_PREFIX);
}

export function generateAdminToken(): GeneratedSecret {
  return generate(ADMIN_TOKEN_PREFIX);
}

/** Same as hashKey; named for call sites that hash admin tokens. */
export const hashAdminToken = hashKey;

/** Display prefix of any secret (e.g. a token from the config file). */
export function secretPrefix(secret: string): string {
  return secret.slice(0, Math.min(DISPLAY_PREFIX_LENGTH, Math.floor(secret.length / 3)));
}
