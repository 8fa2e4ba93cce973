// Bundles the TypeScript entry points into dist/ with esbuild (Node 20 cannot run .ts directly).
// Runs on `npm ci` (prepare), `npm start`, `npm test` and `npm run bench`; takes well under a second.
import { build } from "esbuild";
import { cp, mkdir } from "node:fs/promises";

const node = {
  platform: "node",
  format: "esm",
  target: "node20",
  bundle: true,
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
  // Bundled ESM still needs require() for a few CommonJS dependencies.
  banner: {
    js: "import { createRequire as __kgCreateRequire } from 'node:module'; const require = __kgCreateRequire(import.meta.url);",
  },
};

await build({
  ...node,
  entryPoints: {
    keygate: "server/src/main.ts",
    // Embedded PGlite's thread, loaded by server/src/store/embedded.ts from next to the bundle.
    "pglite-worker": "server/src/store/pglite-worker.ts",
    bench: "bench/run.ts",
    "bench-upstream": "bench/upstream.ts",
    "bench-bare-proxy": "bench/bare-proxy.ts",
    "bench-ttfb": "bench/ttfb.ts",
    "bench-load": "bench/load.ts",
    "bench-hold": "bench/hold.ts",
    "fake-upstream": "test/fakes/serve.ts",
  },
  outdir: "dist",
});

// gwctl starts once per command, so its dependencies are bundled in too: resolving and loading
// them from node_modules took about 0.25 s of every command's 0.5 s.
await build({
  ...node,
  packages: undefined,
  entryPoints: { gwctl: "cli/src/main.ts" },
  outdir: "dist",
});

// The dashboard: a browser bundle served by the gateway at /ui.
const ui = "server/src/dashboard/ui";
await mkdir("dist/ui", { recursive: true });
await build({
  entryPoints: [`${ui}/main.tsx`],
  outfile: "dist/ui/app.js",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "css" },
  logLevel: "warning",
});
await cp(`${ui}/index.html`, "dist/ui/index.html");
