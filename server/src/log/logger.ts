// One pino logger for the process. Request lines go through it asynchronously
// (pino.destination with sync: false) so logging never blocks the event loop.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";
import type { KeygateConfig } from "../config/types.js";

export type { Logger };

/** Header and field names whose values must never reach a log line. */
const REDACT = [
  "req.headers.authorization",
  "req.headers['x-api-key']",
  "req.headers['x-goog-api-key']",
  "req.headers['api-key']",
  "req.headers.cookie",
  "credential",
  "apiKey",
  "token",
  "secret",
];

export function createLogger(cfg: KeygateConfig["logging"]): Logger {
  const file = cfg.logFile;
  if (file) mkdirSync(dirname(file), { recursive: true });
  const destination = pino.destination({ dest: file ?? 1, sync: false, minLength: 4096 });
  return pino(
    {
      level: cfg.level,
      base: undefined,
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** Flushes buffered log lines; called on shutdown. */
export function flushLogger(logger: Logger): void {
  logger.flush();
}
