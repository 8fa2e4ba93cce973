// A renewed certificate is picked up without a restart: `keygate serve` reloads the files on
// SIGHUP (and checks them every minute), new connections get the new certificate, /metrics reports
// its expiry, and a pair that does not load leaves the previous one serving, with an error in the
// log that quotes no key.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { X509Certificate } from "node:crypto";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSignedCertificate } from "../helpers/certificate.js";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { startTestGateway } from "../helpers/gateway.js";
import { spawnKeygate, waitFor } from "./harness.js";

let dir: string;
let first: { cert: string; key: string };
let second: { cert: string; key: string };
let db: ScratchDatabase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keygate-tls-renewal-"));
  first = selfSignedCertificate(dir, "first");
  // The renewed certificate expires a day later than the first.
  second = selfSignedCertificate(dir, "second", 2);
  db = await createScratchDatabase();
});
afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fingerprint = (certFile: string): string => new X509Certificate(readFileSync(certFile)).fingerprint256;
const notAfter = (certFile: string): number =>
  Math.floor(Date.parse(new X509Certificate(readFileSync(certFile)).validTo) / 1000);

/** keygate_tls_certificate_expiry_timestamp_seconds from the gateway's /metrics. */
async function expiryMetric(url: string): Promise<number | undefined> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const res = await request(`${url}/metrics`, { dispatcher: agent });
    const text = await res.body.text();
    const m = /^keygate_tls_certificate_expiry_timestamp_seconds (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } finally {
    await agent.close();
  }
}

/** The fingerprint of the certificate a new connection to `url` is given. */
function served(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/** Files the gateway is configured with, filled from one of the pairs. */
function install(name: string, pair: { cert: string; key: string }): { cert: string; key: string } {
  const files = { cert: join(dir, `${name}.cert.pem`), key: join(dir, `${name}.key.pem`) };
  copyFileSync(pair.cert, files.cert);
  copyFileSync(pair.key, files.key);
  return files;
}

describe("TLS certificate renewal", () => {
  it("reloads changed files, and keeps serving the old pair when the new one does not load", async () => {
    const files = install("in-process", first);
    const gw = await startTestGateway({ databaseUrl: db.url, config: { tls: { enabled: true, ...files } } });
    try {
      expect(await served(gw.url)).toBe(fingerprint(first.cert));
      expect(await expiryMetric(gw.url)).toBe(notAfter(first.cert));
      expect(await gw.gateway.reloadTls()).toBe("unchanged");

      install("in-process", second);
      expect(await gw.gateway.reloadTls()).toBe("reloaded");
      expect(await served(gw.url)).toBe(fingerprint(second.cert));
      expect(await expiryMetric(gw.url)).toBe(notAfter(second.cert));

      // A certificate with a key that is not its own.
      copyFileSync(first.key, files.key);
      expect(await gw.gateway.reloadTls()).toBe("failed");
      expect(await served(gw.url)).toBe(fingerprint(second.cert));
      const logs = await gw.logs();
      expect(logs).toContain("TLS certificate reload failed");
      const keyBody = readFileSync(first.key, "utf8").split("\n")[1]!;
      expect(keyBody.length).toBeGreaterThan(20);
      expect(logs).not.toContain(keyBody);
    } finally {
      await gw.close();
    }
  });

  it("keygate serve reloads the files on SIGHUP and goes on running", async () => {
    const files = install("process", first);
    const kg = await spawnKeygate({ config: { tls: { enabled: true, ...files } }, databaseUrl: db.url });
    try {
      expect(kg.url).toMatch(/^https:/);
      expect(await served(kg.url)).toBe(fingerprint(first.cert));
      install("process", second);
      kg.child.kill("SIGHUP");
      const want = fingerprint(second.cert);
      await waitFor("the new certificate", async () => ((await served(kg.url)) === want ? true : undefined));
      expect(kg.alive()).toBe(true);
    } finally {
      await kg.stop();
    }
  });
});
