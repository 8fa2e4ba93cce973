// The dashboard's built files, read once at start-up and served from memory.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { extname, join, relative } from "node:path";

export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** Hashed or versioned assets can be cached forever; index.html cannot. */
  immutable: boolean;
}

export type StaticFiles = Map<string, StaticFile>;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

export function loadStaticFiles(dir: string): StaticFiles | undefined {
  if (!existsSync(dir)) return undefined;
  const files: StaticFiles = new Map();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const rel = relative(dir, full).split("\\").join("/");
        files.set(rel, {
          body: readFileSync(full),
          contentType: TYPES[extname(name)] ?? "application/octet-stream",
          immutable: false,
        });
      }
    }
  };
  walk(dir);
  return files;
}
