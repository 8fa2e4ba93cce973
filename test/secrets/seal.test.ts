// Sealing, master keys, virtual keys, fingerprints and the bootstrap admin token.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureAdminToken } from "../../server/src/secrets/admin-token.js";
import { fingerprint } from "../../server/src/secrets/fingerprint.js";
import { loadKeyring, MASTER_KEY_REQUIRED } from "../../server/src/secrets/master-key.js";
import {
  createKeyring,
  envelopeKeyId,
  keyId,
  seal,
  SealError,
  unseal,
} from "../../server/src/secrets/seal.js";
import { generateAdminToken, generateVirtualKey, hashKey } from "../../server/src/secrets/virtual-key.js";
import { testConfig } from "../helpers/admin-server.js";

const SENTINEL = "sk-SENTINEL-seal-0123456789abcdef";

function flipLastChar(b64: string): string {
  const bytes = Buffer.from(b64, "base64");
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
  return bytes.toString("base64");
}

describe("seal", () => {
  const keyring = createKeyring(randomBytes(32));

  it("round-trips and uses a fresh nonce each time", () => {
    const a = seal(keyring, "openai", SENTINEL);
    const b = seal(keyring, "openai", SENTINEL);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SENTINEL);
    expect(a.split(".")).toHaveLength(4);
    expect(a.startsWith(`v1.${keyring.currentId}.`)).toBe(true);
    expect(Buffer.from(a.split(".")[2] as string, "base64")).toHaveLength(12);
    expect(unseal(keyring, "openai", a)).toBe(SENTINEL);
    expect(unseal(keyring, "openai", b)).toBe(SENTINEL);
  });

  it("refuses tampered ciphertext without revealing anything", () => {
    const parts = seal(keyring, "openai", SENTINEL).split(".");
    parts[3] = flipLastChar(parts[3] as string);
    const tampered = parts.join(".");
    expect(() => unseal(keyring, "openai", tampered)).toThrow(SealError);
    try {
      unseal(keyring, "openai", tampered);
    } catch (err) {
      expect(String(err)).not.toContain(SENTINEL);
      expect(String(err)).not.toContain(parts[3]);
    }
    const nonceFlipped = seal(keyring, "openai", SENTINEL).split(".");
    nonceFlipped[2] = flipLastChar(nonceFlipped[2] as string);
    expect(() => unseal(keyring, "openai", nonceFlipped.join("."))).toThrow(SealError);
  });

  it("binds the value to its provider id (AAD)", () => {
    const env = seal(keyring, "openai", SENTINEL);
    expect(() => unseal(keyring, "anthropic", env)).toThrow(/failed authentication/);
  });

  it("rejects malformed envelopes and unknown key ids", () => {
    expect(() => unseal(keyring, "x", "garbage")).toThrow(SealError);
    expect(() => unseal(keyring, "x", "v2.a.b.c")).toThrow(SealError);
    const other = createKeyring(randomBytes(32));
    expect(() => unseal(keyring, "x", seal(other, "x", "v"))).toThrow(/not configured/);
  });

  it("reads values sealed under a previous key after rotation, and seals under the new one", () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = createKeyring(oldKey);
    const env = seal(before, "p1", SENTINEL);
    const after = createKeyring(newKey, [oldKey]);
    expect(after.currentId).toBe(keyId(newKey));
    expect(envelopeKeyId(env)).toBe(keyId(oldKey));
    expect(unseal(after, "p1", env)).toBe(SENTINEL);
    const resealed = seal(after, "p1", unseal(after, "p1", env));
    expect(envelopeKeyId(resealed)).toBe(keyId(newKey));
    // Without the old key the old value is unreadable.
    expect(() => unseal(createKeyring(newKey), "p1", env)).toThrow(SealError);
  });

  it("derives the key id from SHA-256 of the key", () => {
    expect(keyId(Buffer.alloc(32))).toMatch(/^[0-9a-f]{8}$/);
    expect(keyId(Buffer.alloc(32))).toBe("66687aad");
  });
});

describe("master key", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("uses KEYGATE_MASTER_KEY and previous keys", () => {
    const k = randomBytes(32);
    const old = randomBytes(32);
    const ring = loadKeyring(
      testConfig({
        secrets: { masterKey: k.toString("base64"), previousKeys: { [keyId(old)]: old.toString("base64") } },
      }),
      false,
    );
    expect(ring.currentId).toBe(keyId(k));
    expect(ring.keys.has(keyId(old))).toBe(true);
  });

  it("rejects a key that is not base64 of 32 bytes, in one line, without echoing it", () => {
    const bad = randomBytes(16).toString("base64");
    let message = "";
    try {
      loadKeyring(testConfig({ secrets: { masterKey: bad, previousKeys: {} } }), false);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/KEYGATE_MASTER_KEY must be base64 of exactly 32 bytes/);
    expect(message).not.toContain(bad);
    expect(message).not.toContain("\n");
    expect(() =>
      loadKeyring(testConfig({ secrets: { masterKey: "not base64!!", previousKeys: {} } }), false),
    ).toThrow();
  });

  it("requires a master key with a Postgres URL", () => {
    expect(() =>
      loadKeyring(testConfig({ database: { url: "postgres://x/y", dataDir: "/nonexistent" } }), false),
    ).toThrow(MASTER_KEY_REQUIRED);
  });

  it("generates a 0600 key file in embedded mode and reuses it", () => {
    dir = mkdtempSync(join(tmpdir(), "keygate-mk-"));
    const cfg = testConfig({}, join(dir, "data"));
    const first = loadKeyring(cfg, true);
    const file = join(dir, "data", "master.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, "utf8").trim(), "base64")).toHaveLength(32);
    const second = loadKeyring(cfg, true);
    expect(second.currentId).toBe(first.currentId);
    const env = seal(first, "p", "v");
    expect(unseal(second, "p", env)).toBe("v");
  });
});

describe("virtual keys and admin tokens", () => {
  it("generates 256-bit secrets with a recognisable prefix and stores only the hash", () => {
    const k = generateVirtualKey();
    expect(k.secret).toMatch(/^kg_live_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(k.secret.slice("kg_live_".length), "base64url")).toHaveLength(32);
    expect(k.hash).toBe(hashKey(k.secret));
    expect(k.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(k.prefix).toBe(k.secret.slice(0, 12));
    expect(generateVirtualKey().secret).not.toBe(k.secret);
    const t = generateAdminToken();
    expect(t.secret).toMatch(/^kg_admin_[A-Za-z0-9_-]{43}$/);
    expect(t.hash).toBe(hashKey(t.secret));
  });

  it("fingerprints reveal at most 3 leading and 4 trailing characters", () => {
    expect(fingerprint("sk-proj-abcdefghijklmnopqrstuvwxyz1234")).toBe("sk-…1234");
    expect(fingerprint("abcdefghijklmn")).toBe("…klmn");
    expect(fingerprint("short")).toBe("…");
    expect(fingerprint("")).toBe("");
    expect(fingerprint(SENTINEL)).not.toContain("SENTINEL");
  });
});

describe("bootstrap admin token", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("prefers KEYGATE_ADMIN_TOKEN", () => {
    expect(
      ensureAdminToken(testConfig({ admin: { token: "from-env-token", tokens: [] } }), "/nonexistent"),
    ).toEqual({
      token: "from-env-token",
      generated: false,
    });
  });

  it("generates a 0600 file once and reads it afterwards", () => {
    dir = mkdtempSync(join(tmpdir(), "keygate-at-"));
    const cfg = testConfig({}, dir);
    const first = ensureAdminToken(cfg, dir);
    expect(first.generated).toBe(true);
    expect(first.token).toMatch(/^kg_admin_/);
    expect(statSync(join(dir, "admin.token")).mode & 0o777).toBe(0o600);
    expect(ensureAdminToken(cfg, dir)).toEqual({ token: first.token, generated: false });
    writeFileSync(join(dir, "admin.token"), "");
    const regenerated = ensureAdminToken(cfg, dir);
    expect(regenerated.generated).toBe(true);
    expect(regenerated.token).not.toBe(first.token);
  });
});
