// Invalid configs: every problem is reported, as "path: cause", and no secret leaks into errors.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/src/config/load.js";
import { FIXTURES, configError, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.remove());

let counter = 0;
/** Loads a config given as an object (or raw text) from a fresh file; returns the problems. */
function problems(content: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  const file = tmp.write(`c${counter++}.json`, content);
  return configError(() => loadConfig({ file, env, checkFiles: true })).problems;
}

describe("unset environment variables", () => {
  it("names the path and the variable", () => {
    const file = join(FIXTURES, "guide-api-key-env.json");
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.problems).toEqual(["providers.anthropic.apiKey: ${ANTHROPIC_API_KEY} is not set"]);
    expect(err.message).toContain("providers.anthropic.apiKey: ${ANTHROPIC_API_KEY} is not set");
    expect(err.message).toContain(file);
    expect(err.exitCode).toBe(2);
    expect(err).toBeInstanceOf(ConfigError);
  });

  it("reports malformed and unterminated references", () => {
    expect(problems({ server: { host: "${1BAD}", replicaId: "${OPEN" } })).toEqual([
      "server.host: malformed ${...} reference (write ${NAME} or ${NAME:-default})",
      "server.replicaId: unterminated ${ (write ${NAME} or ${NAME:-default})",
    ]);
  });
});

describe("files that are not JSON", () => {
  it("names the file, line and column, with exit code 2", () => {
    const file = tmp.write("trailing-comma.json", '{\n  "server": {\n    "port": 80,\n  }\n}\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4:3: not valid JSON`),
    );
  });

  it("finds the position even when the parser's message has none", () => {
    const file = tmp.write("missing-value.json", '{\n  "server": {\n    "port": }\n}\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.message).toContain(`${file}:3:13: not valid JSON`);
  });

  it("points at the end for a truncated file", () => {
    const file = tmp.write("truncated.json", '{\n  "server": {');
    expect(configError(() => loadConfig({ file, env: {} })).message).toContain(`${file}:2:14:`);
  });

  it("never quotes the file's text", () => {
    const secret = "sk-ant-SENTINEL-0d1e";
    const file = tmp.write("leak.json", `{"providers": {"a": {"apiKey": "${secret}" }}}}`);
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.message).not.toContain(secret);
    expect(err.message).toContain(`${file}:1:`);
  });

  it("reports a missing file", () => {
    const file = join(tmp.path, "absent.json");
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.problems).toEqual([`${file}: cannot read config file: file not found`]);
    expect(err.exitCode).toBe(2);
  });
});

describe("invalid values", () => {
  const anthropic = { type: "anthropic", apiKey: "k", models: ["m"] };

  it("reports a wrong type", () => {
    expect(problems({ server: { port: "8080" } })).toEqual(["server.port: must be an integer"]);
    expect(problems({ logging: { requests: "yes" } })).toEqual(["logging.requests: must be true or false"]);
  });

  it("lists the allowed provider types", () => {
    expect(problems({ providers: { openai: { type: "gpt", apiKey: "k" } } })).toEqual([
      "providers.openai.type: must be one of openai, openai-compatible, anthropic, google, ollama, echo",
    ]);
  });

  it("lists what budgets.unpricedModels accepts", () => {
    expect(problems({ budgets: { unpricedModels: "ignore" } })).toEqual([
      "budgets.unpricedModels: must be one of refuse, allow",
    ]);
  });

  it("reports unknown sections and misspelt keys", () => {
    expect(problems({ rateLimits: {}, providers: { a: { ...anthropic, apikey: "k" } } })).toEqual([
      "rateLimits: unknown section",
      "providers.a.apikey: unknown key",
    ]);
  });

  it("reports a chain, rule or alias naming an unknown provider", () => {
    const routing = {
      chain: ["anthropic", "openai"],
      rules: [{ match: { tag: "x" }, provider: "olama" }],
      aliases: { fast: [{ provider: "groq", model: "m" }] },
    };
    expect(problems({ providers: { anthropic }, routing })).toEqual([
      "routing.chain[1]: no provider named openai",
      "routing.rules[0].provider: no provider named olama",
      "routing.aliases.fast[0].provider: no provider named groq",
    ]);
  });

  it("reports an entry that is not an IP or CIDR", () => {
    expect(problems({ security: { allowedIPs: ["127.0.0.1", "10.0.0.0/33", "::1", "fe80::/129"] } })).toEqual(
      [
        "security.allowedIPs[1]: not an IP address or CIDR range",
        "security.allowedIPs[3]: not an IP address or CIDR range",
      ],
    );
  });

  it("reports a trusted proxy that is not an IP or CIDR", () => {
    expect(problems({ security: { trustedProxies: ["10.0.0.0/8", "lb.internal"] } })).toEqual([
      "security.trustedProxies[1]: not an IP address or CIDR range",
    ]);
  });

  it("reports missing TLS files by path", () => {
    const cert = tmp.write("present-cert.pem", "x");
    const key = join(tmp.path, "no-such-key.pem");
    expect(problems({ tls: { enabled: true, cert, key } })).toEqual([`tls.key: file not found: ${key}`]);
    expect(problems({ tls: { enabled: true, cert } })).toEqual([
      "tls.key: required when tls.enabled is true",
    ]);
    expect(problems({ tls: { enabled: true, cert: tmp.path, key: cert } })).toEqual([
      `tls.cert: not a file: ${tmp.path}`,
    ]);
  });

  it("allows only one default provider", () => {
    const providers = { a: { ...anthropic, default: true }, b: { ...anthropic, default: true } };
    expect(problems({ providers })).toEqual([
      "providers.b.default: only one provider may be the default (a is)",
    ]);
  });

  it("requires an API key for hosted provider types", () => {
    expect(
      problems({
        providers: {
          openai: { type: "openai" },
          google: { type: "google" },
          router: { type: "openai-compatible", baseUrl: "https://openrouter.ai/api/v1" },
          local: { type: "ollama" },
        },
      }),
    ).toEqual([
      "providers.openai.apiKey: required for type openai",
      "providers.google.apiKey: required for type google",
    ]);
  });

  it("reports duplicate token names and invalid admin roles", () => {
    const tokens = [
      { name: "dev", token: "t1" },
      { name: "dev", token: "t2" },
    ];
    expect(
      problems({ auth: { tokens }, admin: { tokens: [{ name: "root", token: "t3", role: "owner" }] } }),
    ).toEqual([
      "admin.tokens[0].role: must be one of admin, operator, viewer",
      "auth.tokens[1].name: dev is already used by auth.tokens[0]",
    ]);
  });

  it("reports bad sizes, URLs and bounds", () => {
    expect(
      problems({
        server: { bodyLimit: "10 parsecs", port: 70000, workers: 0, headersTimeoutMs: 0 },
        database: { url: "mysql://db" },
        providers: { o: { type: "ollama", baseUrl: "localhost:11434", weight: 0 } },
        redis: { commandTimeoutMs: 0 },
      }),
    ).toEqual([
      "providers.o.baseUrl: must be an http:// or https:// URL",
      "providers.o.weight: must be greater than 0",
      "server.port: must be at most 65535",
      'server.bodyLimit: must be a size such as "10mb" or a whole number of bytes',
      "server.workers: must be at least 1",
      "server.headersTimeoutMs: must be greater than 0",
      "database.url: must be a postgres:// or postgresql:// URL",
      "redis.commandTimeoutMs: must be greater than 0",
    ]);
  });

  it("reports bad header names and values", () => {
    const headers = { "Bad Name": "v", "X-Ok": "line\nbreak" };
    expect(problems({ providers: { e: { type: "echo", headers } } })).toEqual([
      'providers.e.headers["Bad Name"]: is not a valid header name',
      "providers.e.headers.X-Ok: must not contain line breaks",
    ]);
  });

  it("reports an empty routing match and an empty alias", () => {
    const routing = { rules: [{ match: {}, provider: "echo" }], aliases: { none: [] } };
    expect(problems({ routing })).toEqual([
      "routing.rules[0].match: must set at least one of maxTokens, tag, model or default",
      "routing.aliases.none: must not be empty",
    ]);
  });

  it("requires the root to be an object", () => {
    expect(problems("[1, 2]")).toEqual(["(root): must be an object"]);
  });

  it("collects every problem at once", () => {
    const found = problems(
      {
        providers: { a: { type: "anthropic" } },
        routing: { chain: ["missing"] },
        logging: { level: "loud" },
        unknownThing: 1,
      },
      { KEYGATE_PORT: "abc" },
    );
    expect(found).toEqual([
      "unknownThing: unknown section",
      "logging.level: must be one of trace, debug, info, warn, error, fatal, silent",
      "KEYGATE_PORT: must be an integer",
      "providers.a.apiKey: required for type anthropic",
      "routing.chain[0]: no provider named missing",
    ]);
  });
});

describe("environment and override values", () => {
  it("names the variable or flag", () => {
    const err = configError(() =>
      loadConfig({
        env: {
          KEYGATE_PORT: "abc",
          KEYGATE_WORKERS: "-1",
          KEYGATE_LOG_LEVEL: "loud",
          REDIS_URL: "localhost",
        },
        overrides: { host: "" },
      }),
    );
    expect(err.problems).toEqual([
      "--host: must not be empty",
      "KEYGATE_PORT: must be an integer",
      "KEYGATE_WORKERS: must be at least 1",
      "REDIS_URL: must be a redis:// or rediss:// URL",
      "KEYGATE_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent",
    ]);
    expect(err.message.split("\n")[0]).toBe("invalid configuration:");
  });

  it("rejects an out-of-range override", () => {
    expect(configError(() => loadConfig({ env: {}, overrides: { port: 70000 } })).problems).toEqual([
      "--port: must be at most 65535",
    ]);
  });
});

describe("secrets in errors", () => {
  const SENTINEL = "SENTINEL-5b9e4c1a-secret";

  it("never include a resolved value", () => {
    const env = {
      SECRET: SENTINEL,
      KEYGATE_PORT: SENTINEL,
      KEYGATE_MASTER_KEY: SENTINEL,
      DATABASE_URL: SENTINEL,
      REDIS_URL: SENTINEL,
    };
    const file = tmp.write("secrets.json", {
      providers: {
        a: {
          type: "anthropic",
          apiKey: "${SECRET}",
          baseUrl: "${SECRET}",
          headers: { "X-Key": "${SECRET}\n" },
        },
      },
      server: { port: "${SECRET}", bodyLimit: "${SECRET}" },
      security: { allowedIPs: ["${SECRET}"] },
      tls: { enabled: true, cert: "${SECRET}", key: "/${SECRET}" },
      auth: {
        tokens: [
          { name: "${SECRET}", token: "${SECRET}" },
          { name: "${SECRET}", token: "other" },
        ],
      },
      admin: { tokens: [{ name: "x", token: "${SECRET}", role: "admin" }] },
      rateLimiting: { global: { requestsPerMinute: "${SECRET}" } },
      logging: { level: "${SECRET}" },
      secrets: { previousKeys: { k1: "${SECRET}" } },
    });
    const err = configError(() => loadConfig({ file, env, checkFiles: true }));
    expect(err.problems.length).toBeGreaterThanOrEqual(13);
    for (const text of [err.message, err.stack ?? "", JSON.stringify(err), ...err.problems]) {
      expect(text).not.toContain(SENTINEL);
    }
    expect(err.problems).toContain("server.port: must be an integer (from ${SECRET})");
    expect(err.problems).toContain("admin.tokens[0].token: same token as auth.tokens[0]");
    expect(err.problems).toContain("tls.cert: file not found (path from ${SECRET})");
    expect(err.problems).toContain("auth.tokens[1].name: ${SECRET} is already used by auth.tokens[0]");
  });

  it("name a variable instead of the provider name it resolved to", () => {
    const file = tmp.write("secret-chain.json", {
      providers: { a: { type: "echo" } },
      routing: { chain: ["${SECRET}"], rules: [{ match: { tag: "t" }, provider: "${SECRET}" }] },
    });
    const err = configError(() => loadConfig({ file, env: { SECRET: SENTINEL } }));
    expect(err.problems).toEqual([
      "routing.chain[0]: no provider named ${SECRET}",
      "routing.rules[0].provider: no provider named ${SECRET}",
    ]);
    expect(err.message).not.toContain(SENTINEL);
  });
});
