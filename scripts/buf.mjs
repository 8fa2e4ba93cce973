// Runs the buf CLI from its npm platform package (the registry here serves the Linux x64 build),
// with node_modules/.bin on PATH so `buf generate` finds the local protoc-gen-es plugin.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", "@bufbuild", `buf-${process.platform}-${process.arch}`, "bin", "buf");
if (!existsSync(bin)) {
  console.error(`buf: no binary for ${process.platform}/${process.arch} (${bin}); run npm ci`);
  process.exit(1);
}
const env = { ...process.env, PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter) };
const r = spawnSync(bin, process.argv.slice(2), { stdio: "inherit", cwd: root, env });
process.exit(r.status ?? 1);
