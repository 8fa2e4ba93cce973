// Shared plumbing for the dashboard's browser tests: bundle the UI, serve it, drive Chromium.
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { build } from "esbuild";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import type { FakeAdmin } from "./fake-admin.js";

export const ROOT = resolve(import.meta.dirname, "../..");
const UI_SRC = join(ROOT, "server/src/dashboard/ui");
export const SCREENSHOTS = join(ROOT, "test-results/screenshots");
const CHROMIUM = "/usr/bin/chromium";

/** Bundles the dashboard the way scripts/build.mjs does, into a private directory. */
export async function buildUi(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), "keygate-ui-"));
  await build({
    entryPoints: [join(UI_SRC, "main.tsx")],
    outfile: join(out, "app.js"),
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
  await copyFile(join(UI_SRC, "index.html"), join(out, "index.html"));
  return out;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
};

export interface Served {
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the bundle under /ui/ and the fake Admin API beside it, on a free loopback port. */
export async function serveFake(fake: FakeAdmin, uiDir: string): Promise<Served> {
  const api = connectNodeAdapter({ routes: fake.routes, interceptors: [fake.interceptor] });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/ui") {
      res.writeHead(301, { location: "/ui/" }).end();
      return;
    }
    if (!url.pathname.startsWith("/ui/")) return api(req, res);
    const rel = normalize(url.pathname.slice("/ui/".length) || "index.html");
    const file = join(uiDir, rel);
    if (rel.startsWith("..") || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) =>
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * Collects uncaught exceptions and console errors so a test can assert the UI ran cleanly.
 * Failed HTTP responses are left out: refused tokens and missing ids are expected answers.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  return errors;
}

export interface SpawnedGateway {
  url: string;
  adminToken: string;
  close(): Promise<void>;
}

/** Builds dist/ (gateway and dashboard) exactly as `npm run build` does. */
export async function buildAll(): Promise<void> {
  await promisify(execFile)(process.execPath, ["scripts/build.mjs"], { cwd: ROOT });
}

/**
 * Runs `keygate serve --port 0` as a child process with its own data directory and admin token,
 * and resolves once it prints the address it listens on.
 */
export async function spawnGateway(): Promise<SpawnedGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), "keygate-ui-e2e-"));
  const adminToken = `kg_admin_${randomBytes(16).toString("hex")}`;
  const child = spawn(process.execPath, ["server/bin/keygate.js", "serve", "--port", "0"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, KEYGATE_DATA_DIR: dataDir, KEYGATE_ADMIN_TOKEN: adminToken },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolveUrl(m[1]!);
    });
    void exited.then((code) => reject(new Error(`keygate exited (${code}) before listening: ${stderr}`)));
  });
  return {
    url,
    adminToken,
    async close() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
