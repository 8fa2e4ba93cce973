// Bundles a TypeScript entry into a self-contained .mjs in a temp dir, so tests can run entries
// in their own process without depending on a full `npm run build`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

export interface Bundle {
  file: string;
  remove(): Promise<void>;
}

export async function bundleEntry(entry: string): Promise<Bundle> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-fake-"));
  const file = join(dir, "entry.mjs");
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    // Bundled CommonJS dependencies still call require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
