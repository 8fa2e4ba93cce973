// Shared helpers for the config tests: fixture paths and throwaway config files.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../server/src/config/load.js";

export const FIXTURES = join(import.meta.dirname, "../fixtures/configs");

/** A private temp directory per test file, so parallel runs never share files. */
export function tempDir(): {
  path: string;
  write: (name: string, content: unknown) => string;
  remove: () => void;
} {
  const path = mkdtempSync(join(tmpdir(), "keygate-config-"));
  return {
    path,
    write: (name, content) => {
      const file = join(path, name);
      writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** Runs fn, which must throw a ConfigError, and returns that error. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError, but loading succeeded");
}
