// The test suite drives Debian's Chromium (dashboard) and wrk (benchmark smoke test). On a fresh
// machine, install them the way the machine installs packages; elsewhere, say what is missing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const needed = [
  { bin: "/usr/bin/chromium", pkg: "chromium" },
  { bin: "/usr/bin/wrk", pkg: "wrk" },
].filter((n) => !existsSync(n.bin));

if (needed.length > 0) {
  const pkgs = needed.map((n) => n.pkg);
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (!canInstall) {
    console.error(`tests need ${pkgs.join(" and ")}: install them (apt-get install ${pkgs.join(" ")})`);
    process.exit(1);
  }
  console.error(`installing ${pkgs.join(" and ")} for the test suite (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", ...pkgs],
  ]) {
    const r = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(" ")} failed`);
      process.exit(1);
    }
  }
}
