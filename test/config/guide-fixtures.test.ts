// Every JSON example of the setup guide loads unmodified.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config/load.js";
import { FIXTURES, configError, tempDir } from "./helpers.js";

const ENV = {
  ANTHROPIC_API_KEY: "sk-ant-from-env",
  GATEWAY_TOKEN_DEV1: "tok-dev1",
  GATEWAY_TOKEN_CI: "tok-ci",
  TOKEN_ALICE: "tok-alice",
  TOKEN_BOB: "tok-bob",
};

const fixtures = readdirSync(FIXTURES).filter((f) => f.startsWith("guide-") && f.endsWith(".json"));
// The TLS example points at /etc/openclaw/*.pem, which does not exist on a test machine.
const loadable = fixtures.filter((f) => f !== "guide-tls.json");

/** The fixture as the loader should see it: the guide's JSON with the ${VAR}s above resolved. */
function expected(file: string): unknown {
  const text = readFileSync(join(FIXTURES, file), "utf8").replace(
    /\$\{(\w+)\}/g,
    (_, name: keyof typeof ENV) => ENV[name],
  );
  return JSON.parse(text);
}

const tmp = tempDir();
afterAll(() => tmp.remove());

describe("setup guide examples", () => {
  it("has a fixture for each of the guide's 17 JSON examples", () => {
    expect(fixtures).toHaveLength(17);
  });

  it.each(loadable)("%s loads unmodified and keeps every value it sets", (file) => {
    const config = loadConfig({ file: join(FIXTURES, file), env: ENV });
    expect(config).toMatchObject(expected(file) as Record<string, unknown>);
  });

  it("resolves ${ANTHROPIC_API_KEY} and fills provider defaults (solo developer)", () => {
    const config = loadConfig({ file: join(FIXTURES, "guide-solo-developer.json"), env: ENV });
    expect(config.providers.anthropic).toEqual({
      type: "anthropic",
      apiKey: "sk-ant-from-env",
      models: ["claude-3-5-sonnet-20241022"],
      default: true,
      weight: 1,
      timeouts: { connectMs: 5000, firstByteMs: 60000, idleMs: 60000, totalMs: 600000 },
      headers: {},
    });
    expect(config.providers.ollama?.default).toBe(false);
    expect(config.routing.chain).toEqual(["anthropic", "ollama"]);
    expect(config.rateLimiting.global).toEqual({ tokensPerDay: 500000 });
  });

  it("gives tokens without allowedModels an empty list (small team)", () => {
    const config = loadConfig({ file: join(FIXTURES, "guide-small-team.json"), env: ENV });
    expect(config.auth.tokens.map((t) => [t.name, t.token, t.allowedModels])).toEqual([
      ["alice", "tok-alice", []],
      ["bob", "tok-bob", []],
    ]);
    expect(config.logging).toEqual({
      level: "info",
      requests: true,
      logFile: "/var/log/openclaw/gateway.log",
      includePrompts: false,
    });
  });

  it("runs a routing-only example on the built-in echo provider", () => {
    const config = loadConfig({ file: join(FIXTURES, "guide-routing-fallback.json"), env: {} });
    expect(Object.keys(config.providers)).toEqual(["echo"]);
    expect(config.routing.chain).toEqual(["anthropic", "openai", "ollama"]);
  });

  it("loads the TLS example unmodified, and `serve` refuses it while its certificate files are missing", () => {
    const loaded = loadConfig({ file: join(FIXTURES, "guide-tls.json"), env: {} });
    expect(loaded.tls).toEqual({
      enabled: true,
      cert: "/etc/openclaw/cert.pem",
      key: "/etc/openclaw/key.pem",
    });
    const err = configError(() =>
      loadConfig({ file: join(FIXTURES, "guide-tls.json"), env: {}, checkFiles: true }),
    );
    expect(err.problems).toEqual([
      "tls.cert: file not found: /etc/openclaw/cert.pem",
      "tls.key: file not found: /etc/openclaw/key.pem",
    ]);
  });

  it("loads the TLS example once its files exist", () => {
    const cert = tmp.write("cert.pem", "cert");
    const key = tmp.write("key.pem", "key");
    const guide = readFileSync(join(FIXTURES, "guide-tls.json"), "utf8")
      .replace("/etc/openclaw/cert.pem", cert)
      .replace("/etc/openclaw/key.pem", key);
    const config = loadConfig({ file: tmp.write("tls.json", guide), env: {} });
    expect(config.tls).toEqual({ enabled: true, cert, key });
  });
});
