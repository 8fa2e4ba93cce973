// Certificates are renewed (Let's Encrypt's every 60 to 90 days), so keygate picks up new
// certificate and key files without a restart: on SIGHUP, and on a check every minute. A pair
// that does not load (half written, or a key that does not match) is logged and the old pair goes
// on serving.
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Server } from "node:tls";
import type { Logger } from "../log/logger.js";

export type TlsReloadResult = "off" | "unchanged" | "reloaded" | "failed";

/** How often the files are compared with the pair being served. */
export const TLS_CHECK_INTERVAL_MS = 60_000;

export interface TlsReloader {
  reload(): Promise<TlsReloadResult>;
  /** When the served certificate expires (epoch ms), for the metric operators alert on. */
  expiresAt(): number | undefined;
  stop(): void;
}

/** The certificate's notAfter (epoch ms); the first certificate of a chain is the server's own. */
function expiry(cert: Buffer): number | undefined {
  try {
    const at = Date.parse(new X509Certificate(cert).validTo);
    return Number.isNaN(at) ? undefined : at;
  } catch {
    return undefined;
  }
}

export function createTlsReloader(
  server: Pick<Server, "setSecureContext">,
  files: { cert: string; key: string },
  serving: { cert: Buffer; key: Buffer },
  logger: Logger,
): TlsReloader {
  let current = serving;
  let expiresAt = expiry(serving.cert);
  // One reload at a time: SIGHUP during the minute's check waits for it.
  let running: Promise<TlsReloadResult> | undefined;

  async function load(): Promise<TlsReloadResult> {
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([readFile(files.cert), readFile(files.key)]);
    } catch (err) {
      logger.error({ err: (err as Error).message }, "TLS certificate reload failed: files unreadable");
      return "failed";
    }
    if (cert.equals(current.cert) && key.equals(current.key)) return "unchanged";
    try {
      server.setSecureContext({ cert, key });
    } catch (err) {
      // Only the error's text: it names what is wrong, never the key's bytes.
      logger.error(
        { err: (err as Error).message, cert: files.cert },
        "TLS certificate reload failed; still serving the previous certificate",
      );
      return "failed";
    }
    current = { cert, key };
    expiresAt = expiry(cert);
    logger.info(
      { cert: files.cert, validTo: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString() },
      "TLS certificate reloaded",
    );
    return "reloaded";
  }

  const reload = (): Promise<TlsReloadResult> => {
    running ??= load().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void reload(), TLS_CHECK_INTERVAL_MS);
  timer.unref();
  return { reload, expiresAt: () => expiresAt, stop: () => clearInterval(timer) };
}
