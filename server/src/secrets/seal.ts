// Sealing of provider credentials: AES-256-GCM under a master key, bound to the provider id.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** The current master key (seals) and older keys by id (unseal only), so the master key can rotate. */
export interface Keyring {
  currentId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when an envelope cannot be opened. The message never contains key material or plaintext. */
export class SealError extends Error {
  override name = "SealError";
}

/** Key id: the first 8 hex digits of SHA-256 of the raw key, safe to store next to sealed values. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

export function createKeyring(current: Buffer, previous: Buffer[] = []): Keyring {
  for (const k of [current, ...previous]) {
    if (k.length !== 32) throw new SealError("master keys must be 32 bytes");
  }
  const keys = new Map<string, Buffer>();
  for (const k of previous) keys.set(keyId(k), k);
  const currentId = keyId(current);
  keys.set(currentId, current);
  return { currentId, keys };
}

/** Returns `v1.<keyId>.<b64 nonce>.<b64 ciphertext+tag>`. */
export function seal(keyring: Keyring, aad: string, plaintext: string): string {
  const key = keyring.keys.get(keyring.currentId);
  if (!key) throw new SealError("keyring has no current key");
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, keyring.currentId, nonce.toString("base64"), body.toString("base64")].join(".");
}

export function unseal(keyring: Keyring, aad: string, envelope: string): string {
  const parts = envelope.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SealError("sealed value has an unknown format");
  const [, id, nonceB64, bodyB64] = parts as [string, string, string, string];
  const key = keyring.keys.get(id);
  if (!key) throw new SealError(`sealed value needs master key ${id}, which is not configured`);
  const nonce = Buffer.from(nonceB64, "base64");
  const body = Buffer.from(bodyB64, "base64");
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
    throw new SealError("sealed value is malformed");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return plain.toString("utf8");
  } catch {
    // Tampered ciphertext, wrong key or a value moved to another provider id.
    throw new SealError("sealed value failed authentication");
  }
}

/** The key id an envelope was sealed under (for re-sealing after a rotation). */
export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split(".");
  return parts.length === 4 && parts[0] === VERSION ? parts[1] : undefined;
}
