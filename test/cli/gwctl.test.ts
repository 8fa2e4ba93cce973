// gwctl end to end: a real `keygate serve` process, a real `node cli/bin/gwctl.js` per command.
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildBinaries,
  gwctl as runGwctl,
  removeCleanCwd,
  spawnGateway,
  startGwctl,
  type CliOptions,
  type CliResult,
  type SpawnedGateway,
} from "./harness.js";

let gw: SpawnedGateway;
// Every byte gwctl printed during the run, checked at the end for secrets.
const transcript: string[] = [];
const secrets: string[] = [];

async function gwctl(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const r = await runGwctl(gw, args, opts);
  transcript.push(r.stdout, r.stderr);
  return r;
}

async function json(args: string[], opts: CliOptions = {}): Promise<unknown> {
  const r = await gwctl([...args, "--output", "json"], opts);
  if (r.code !== 0) throw new Error(`gwctl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

/** Walks into parsed JSON without `any`. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function str(value: unknown, ...path: (string | number)[]): string {
  const v = at(value, ...path);
  if (typeof v !== "string")
    throw new Error(`expected a string at ${path.join(".")}, got ${JSON.stringify(v)}`);
  return v;
}

function arr(value: unknown, ...path: (string | number)[]): unknown[] {
  const v = at(value, ...path);
  if (!Array.isArray(v)) throw new Error(`expected an array at ${path.join(".")}, got ${JSON.stringify(v)}`);
  return v;
}

/** The error contract: exactly one `gwctl: ...` line on stderr, no stack trace. */
function expectOneErrorLine(r: CliResult, code: number): string {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^gwctl: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? "";
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/** Retries `fn` until it succeeds (up to `ms`), for state the gateway writes in the background. */
async function eventually<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const uid = (): string => randomBytes(4).toString("hex");

beforeAll(async () => {
  await buildBinaries();
  gw = await spawnGateway();
  secrets.push(gw.token);
});

afterAll(async () => {
  await gw?.close();
  removeCleanCwd();
});

describe("gwctl instances", () => {
  it("creates, lists, gets, updates only the given fields, disables, enables and deletes", async () => {
    const id = `agent-${uid()}`;
    const other = `agent-${uid()}`;
    const created = await json([
      "instances",
      "create",
      id,
      "--name",
      "Agent One",
      "--label",
      "team=core",
      "--label",
      "env=prod",
      "--tag",
      "production",
      "--capture",
      "metadata",
    ]);
    expect(at(created, "instance")).toMatchObject({
      id,
      displayName: "Agent One",
      labels: { team: "core", env: "prod" },
      tag: "production",
      captureMode: "CAPTURE_MODE_METADATA",
      disabled: false,
    });
    await json(["instances", "create", other, "--label", "team=other"]);

    const core = await json(["instances", "list", "--label", "team=core"]);
    const coreIds = arr(core, "instances").map((i) => at(i, "id"));
    expect(coreIds).toContain(id);
    expect(coreIds).not.toContain(other);

    const firstPage = await json(["instances", "list", "--limit", "1"]);
    expect(arr(firstPage, "instances")).toHaveLength(1);
    const rest = await json(["instances", "list", "--page-token", str(firstPage, "nextPageToken")]);
    const all = [...arr(firstPage, "instances"), ...arr(rest, "instances")].map((i) => at(i, "id"));
    expect(all).toEqual(expect.arrayContaining([id, other]));
    expect(new Set(all).size).toBe(all.length);

    const table = await gwctl(["instances", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATE/m);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+Agent One\\s+enabled`, "m"));

    expect(at(await json(["instances", "get", id]), "instance", "displayName")).toBe("Agent One");

    const updated = await json(["instances", "update", id, "--name", "Renamed", "--disabled", "true"]);
    expect(at(updated, "instance")).toMatchObject({
      displayName: "Renamed",
      disabled: true,
      tag: "production",
      labels: { team: "core", env: "prod" },
      captureMode: "CAPTURE_MODE_METADATA",
    });

    expect(at(await json(["instances", "enable", id]), "instance", "disabled")).toBe(false);
    expect(at(await json(["instances", "disable", id]), "instance", "disabled")).toBe(true);
    const enabled = await gwctl(["instances", "enable", id]);
    expect(enabled.stdout).toMatch(/enabled instance/);
    expect(enabled.stdout).toMatch(/state\s+enabled/);

    expectOneErrorLine(await gwctl(["instances", "update", id]), 2);

    expect((await gwctl(["instances", "delete", id])).code).toBe(0);
    const gone = expectOneErrorLine(await gwctl(["instances", "get", id]), 1);
    expect(gone).toBe(`gwctl: not found: instance "${id}"`);
    await gwctl(["instances", "delete", other]);
  });
});

describe("gwctl keys", () => {
  it("shows a secret once, never lists it, revokes, rotates with grace and deletes", async () => {
    const inst = `keys-${uid()}`;
    await json(["instances", "create", inst]);

    const made = await gwctl([
      "keys",
      "create",
      "--instance",
      inst,
      "--name",
      "bot",
      "--models",
      "gpt-4o,claude-*",
      "--expires",
      "24h",
      "--cidr",
      "10.0.0.0/8",
    ]);
    expect(made.code, made.stderr).toBe(0);
    const secret = /^secret: (\S+)$/m.exec(made.stdout)?.[1] ?? "";
    secrets.push(secret);
    expect(secret).toMatch(/^kg_/);
    expect(made.stdout.split(secret)).toHaveLength(2);
    expect(made.stdout).toMatch(/shown only once/);
    const keyId = /^id\s+(\S+)$/m.exec(made.stdout)?.[1] ?? "";
    expect(keyId).not.toBe("");

    const viaJson = await json(["keys", "create", "--instance", inst, "--expires", "2099-01-01T00:00:00Z"]);
    const secret2 = str(viaJson, "secret");
    secrets.push(secret2);
    expect(secret2.startsWith(str(viaJson, "key", "prefix"))).toBe(true);
    expect(str(viaJson, "key", "expiresAt")).toBe("2099-01-01T00:00:00Z");

    const got = await json(["keys", "get", keyId]);
    expect(at(got, "key")).toMatchObject({
      instanceId: inst,
      displayName: "bot",
      allowedModels: ["gpt-4o", "claude-*"],
      sourceCidrs: ["10.0.0.0/8"],
      state: "KEY_STATE_ACTIVE",
    });
    const expiresIn = Date.parse(str(got, "key", "expiresAt")) - Date.now();
    expect(expiresIn).toBeGreaterThan(23 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3600_000);

    const listed = await gwctl(["keys", "list", "--instance", inst]);
    const listedJson = await gwctl(["keys", "list", "--instance", inst, "--output", "json"]);
    for (const out of [listed.stdout, listedJson.stdout]) {
      expect(out).toContain(keyId);
      expect(out).not.toContain(secret);
      expect(out).not.toContain(secret2);
    }
    expect(listed.stdout).toMatch(new RegExp(`^${keyId}\\s+${inst}\\s+bot\\s+\\S+\\s+active`, "m"));

    const revoked = await gwctl(["keys", "revoke", keyId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const prefix = str(got, "key", "prefix");
    expect(revoked.stdout).toContain(`revoked key ${keyId} (instance ${inst}, prefix ${prefix})`);
    expect(at(await json(["keys", "get", keyId]), "key", "state")).toBe("KEY_STATE_REVOKED");
    const active = arr(await json(["keys", "list", "--instance", inst]), "keys").map((k) => at(k, "id"));
    expect(active).not.toContain(keyId);
    const everything = await gwctl(["keys", "list", "--instance", inst, "--all"]);
    expect(everything.stdout).toMatch(new RegExp(`^${keyId}\\s.*\\brevoked\\b`, "m"));

    const rotated = await json(["keys", "rotate", str(viaJson, "key", "id"), "--grace", "1h"]);
    const secret3 = str(rotated, "secret");
    secrets.push(secret3);
    expect(secret3).not.toBe(secret2);
    const graceLeft = Date.parse(str(rotated, "key", "previousSecretExpiresAt")) - Date.now();
    expect(graceLeft).toBeGreaterThan(55 * 60_000);
    expect(graceLeft).toBeLessThanOrEqual(3600_000);

    const rotatedTable = await gwctl(["keys", "rotate", str(viaJson, "key", "id")]);
    const secret4 = /^secret: (\S+)$/m.exec(rotatedTable.stdout)?.[1] ?? "";
    secrets.push(secret4);
    expect(rotatedTable.stdout).toMatch(/old secret no longer works/);

    expect((await gwctl(["keys", "delete", keyId])).code).toBe(0);
    expect(expectOneErrorLine(await gwctl(["keys", "get", keyId]), 1)).toBe(
      `gwctl: not found: key "${keyId}"`,
    );
    expect(expectOneErrorLine(await gwctl(["keys", "create", "--instance", `missing-${uid()}`]), 1)).toMatch(
      /^gwctl: not found: instance "missing-/,
    );
    expectOneErrorLine(await gwctl(["keys", "create", "--instance", inst, "--cidr", "10.0.0.0/99"]), 2);
  });
});

describe("gwctl providers", () => {
  it("takes credentials from env or stdin only and never prints them", async () => {
    const p1 = `p-${uid()}`;
    const p2 = `p-${uid()}`;
    const cred1 = `sk-SENTINEL-${uid()}-AAAA`;
    const cred2 = `sk-SENTINEL-${uid()}-BBBB`;
    const cred3 = `sk-SENTINEL-${uid()}-CCCC`;
    const cred4 = `sk-SENTINEL-${uid()}-DDDD`;
    secrets.push(cred1, cred2, cred3, cred4);

    const added = await json(
      [
        "providers",
        "add",
        p1,
        "--type",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--models",
        "gpt-4o",
        "--credential-env",
        "KG_TEST_CREDENTIAL",
      ],
      { env: { KG_TEST_CREDENTIAL: cred1 } },
    );
    expect(at(added, "provider")).toMatchObject({
      id: p1,
      type: "openai",
      models: ["gpt-4o"],
      source: "PROVIDER_SOURCE_API",
    });
    const fp1 = str(added, "provider", "credentialFingerprint");
    expect(fp1).not.toBe("");

    const fromStdin = await gwctl(["providers", "add", p2, "--type", "anthropic", "--credential-stdin"], {
      input: `${cred2}\n`,
    });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/^credential\s+\S+/m);

    const listed = await gwctl(["providers", "list"]);
    expect(listed.stdout).toMatch(/^ID\s+TYPE\s+SOURCE\s+MODELS\s+DEFAULT\s+WEIGHT\s+CREDENTIAL\s+BREAKER/m);
    expect(listed.stdout).toMatch(new RegExp(`^${p1}\\s+openai\\s+api\\s+gpt-4o`, "m"));
    expect(listed.stdout).toContain(p2);
    const listedIds = arr(await json(["providers", "list"]), "providers").map((p) => at(p, "id"));
    expect(listedIds).toEqual(expect.arrayContaining([p1, p2]));

    const refused = await gwctl([
      "providers",
      "add",
      `p-${uid()}`,
      "--type",
      "openai",
      "--credential",
      cred3,
    ]);
    expect(expectOneErrorLine(refused, 2)).toMatch(/--credential-env VAR or --credential-stdin/);
    expectOneErrorLine(
      await gwctl([
        "providers",
        "add",
        `p-${uid()}`,
        "--type",
        "openai",
        "--credential-env",
        "KG_UNSET_VARIABLE",
      ]),
      2,
    );
    expectOneErrorLine(await gwctl(["providers", "add", `p-${uid()}`, "--type", "nonsense"]), 2);

    const updated = await json([
      "providers",
      "update",
      p1,
      "--models",
      "gpt-4o,gpt-4o-mini",
      "--weight",
      "3",
    ]);
    expect(at(updated, "provider")).toMatchObject({ models: ["gpt-4o", "gpt-4o-mini"], weight: 3 });
    expect(str(updated, "provider", "credentialFingerprint")).toBe(fp1);
    const recred = await json(["providers", "update", p1, "--credential-stdin"], { input: cred4 });
    expect(str(recred, "provider", "credentialFingerprint")).not.toBe(fp1);

    expect(at(await json(["providers", "get", p2]), "provider", "type")).toBe("anthropic");
    expect((await gwctl(["providers", "remove", p2])).code).toBe(0);
    expect(expectOneErrorLine(await gwctl(["providers", "get", p2]), 1)).toBe(
      `gwctl: not found: provider "${p2}"`,
    );
    await gwctl(["providers", "remove", p1]);
  });
});

describe("gwctl limits", () => {
  it("sets rate limits and budgets through field masks, merging unless --clear", async () => {
    const inst = `lim-${uid()}`;
    await json(["instances", "create", inst]);
    const first = await json([
      "limits",
      "set",
      "--instance",
      inst,
      "--rpm",
      "60",
      "--tokens-per-day",
      "100000",
      "--budget",
      "5/day",
      "--budget",
      "100/month",
    ]);
    expect(at(first, "instance", "policy", "rateLimit")).toEqual({
      requestsPerMinute: "60",
      tokensPerDay: "100000",
    });
    expect(arr(first, "instance", "policy", "budgets")).toEqual([
      { window: "BUDGET_WINDOW_DAILY", limitUsd: 5 },
      { window: "BUDGET_WINDOW_MONTHLY", limitUsd: 100 },
    ]);

    const merged = await json(["limits", "set", "--instance", inst, "--tpm", "1000", "--budget", "7/day"]);
    expect(at(merged, "instance", "policy", "rateLimit")).toEqual({
      requestsPerMinute: "60",
      tokensPerMinute: "1000",
      tokensPerDay: "100000",
    });
    expect(arr(merged, "instance", "policy", "budgets")).toEqual(
      expect.arrayContaining([
        { window: "BUDGET_WINDOW_DAILY", limitUsd: 7 },
        { window: "BUDGET_WINDOW_MONTHLY", limitUsd: 100 },
      ]),
    );

    const cleared = await json(["limits", "set", "--instance", inst, "--clear", "--rpm", "10"]);
    expect(at(cleared, "instance", "policy", "rateLimit")).toEqual({ requestsPerMinute: "10" });
    expect(arr(cleared, "instance", "policy", "budgets")).toEqual([]);

    const status = await json(["limits", "get", "--instance", inst]);
    expect(typeof at(status, "shared")).toBe("boolean");
    expect(Array.isArray(at(status, "budgets"))).toBe(true);
    expect(Array.isArray(at(status, "rateLimits"))).toBe(true);

    const key = await json(["keys", "create", "--instance", inst]);
    secrets.push(str(key, "secret"));
    const keyId = str(key, "key", "id");
    const keyLimits = await json([
      "limits",
      "set",
      "--key",
      keyId,
      "--concurrency",
      "2",
      "--budget",
      "1/total",
    ]);
    expect(at(keyLimits, "key", "rateLimit")).toEqual({ maxConcurrent: "2" });
    expect(arr(keyLimits, "key", "budgets")).toEqual([{ window: "BUDGET_WINDOW_TOTAL", limitUsd: 1 }]);
    const keyTable = await gwctl(["limits", "get", "--key", keyId]);
    expect(keyTable.code, keyTable.stderr).toBe(0);
    expect(keyTable.stdout).toMatch(/^counters: /m);

    expectOneErrorLine(await gwctl(["limits", "set", "--rpm", "5"]), 2);
    expectOneErrorLine(await gwctl(["limits", "set", "--instance", inst, "--key", keyId, "--rpm", "5"]), 2);
    expectOneErrorLine(await gwctl(["limits", "set", "--instance", inst]), 2);
    expectOneErrorLine(await gwctl(["limits", "set", "--instance", inst, "--budget", "5/year"]), 2);
  });
});

describe("gwctl routes, aliases, tokens, audit", () => {
  it("adds and removes routes and aliases", async () => {
    const prov = `r-${uid()}`;
    const cred = `sk-SENTINEL-${uid()}-EEEE`;
    secrets.push(cred);
    await json(
      [
        "providers",
        "add",
        prov,
        "--type",
        "openai-compatible",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--credential-env",
        "KG_TEST_CREDENTIAL",
      ],
      { env: { KG_TEST_CREDENTIAL: cred } },
    );
    const route = await json([
      "routes",
      "add",
      "--provider",
      prov,
      "--match-model",
      "gpt-*",
      "--priority",
      "5",
    ]);
    const routeId = str(route, "route", "id");
    expect(at(route, "route")).toMatchObject({ providerId: prov, priority: 5, match: { model: "gpt-*" } });

    await json(["aliases", "set", "fast", `${prov}/gpt-4o-mini:2`, `${prov}/gpt-4o`]);
    const listed = await json(["routes", "list"]);
    expect(arr(listed, "routes", "routes").map((r) => at(r, "id"))).toContain(routeId);
    const alias = arr(listed, "aliases", "aliases").find((a) => at(a, "name") === "fast");
    expect(at(alias, "targets")).toEqual([
      { providerId: prov, model: "gpt-4o-mini", weight: 2 },
      // No weight given: the server stores the documented default of 1.
      { providerId: prov, model: "gpt-4o", weight: 1 },
    ]);
    const table = await gwctl(["routes", "list"]);
    expect(table.stdout).toMatch(new RegExp(`^${routeId}\\s+5\\s+model=gpt-\\*\\s+${prov}`, "m"));
    expect(table.stdout).toMatch(/^fallback chain\s/m);

    expect((await gwctl(["aliases", "remove", "fast"])).code).toBe(0);
    expect((await gwctl(["routes", "remove", routeId])).code).toBe(0);
    const after = await json(["routes", "list"]);
    expect(arr(after, "routes", "routes").map((r) => at(r, "id"))).not.toContain(routeId);
    expectOneErrorLine(await gwctl(["aliases", "set", "fast", "no-slash"]), 2);
    expectOneErrorLine(await gwctl(["routes", "add", "--provider", prov]), 2);
    await gwctl(["providers", "remove", prov]);
  });

  it("creates a viewer token that can read but not write, then deletes it", async () => {
    const name = `ci-${uid()}`;
    const made = await json(["tokens", "create", name, "--role", "viewer"]);
    const viewer = str(made, "secret");
    secrets.push(viewer);
    expect(at(made, "token", "role")).toBe("ADMIN_ROLE_VIEWER");
    const listed = await gwctl(["tokens", "list"]);
    expect(listed.stdout).toMatch(new RegExp(`^${name}\\s+viewer`, "m"));
    expect(listed.stdout).not.toContain(viewer);

    const asViewer = { env: { KEYGATE_ADMIN_TOKEN: viewer } };
    expect((await gwctl(["status"], asViewer)).code).toBe(0);
    const denied = expectOneErrorLine(await gwctl(["instances", "create", `v-${uid()}`], asViewer), 1);
    expect(denied).toMatch(/^gwctl: permission denied: /);

    expect((await gwctl(["tokens", "delete", name])).code).toBe(0);
    expect(expectOneErrorLine(await gwctl(["status"], asViewer), 1)).toBe(
      "gwctl: unauthenticated: check --token or KEYGATE_ADMIN_TOKEN",
    );
  });

  it("lists audit events filtered by action prefix", async () => {
    const inst = `aud-${uid()}`;
    await json(["instances", "create", inst]);
    const events = arr(
      await json(["audit", "--action", "instance.", "--since", "1h", "--limit", "5"]),
      "events",
    );
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(5);
    for (const e of events) expect(str(e, "action")).toMatch(/^instance\./);
    expect(events.some((e) => str(e, "resource").includes(inst))).toBe(true);
    const table = await gwctl(["audit", "--limit", "3"]);
    expect(table.stdout).toMatch(/^TIME\s+ACTOR\s+ROLE\s+ACTION/m);
  });
});

describe("gwctl status and health", () => {
  it("reports status and health", async () => {
    const status = await json(["status"]);
    expect(str(status, "version")).not.toBe("");
    expect(at(status, "database")).toMatchObject({ kind: "pglite", ok: true });
    const health = await gwctl(["health"]);
    expect(health.code, health.stderr).toBe(0);
    expect(health.stdout).toMatch(/^healthz: 200 ok/m);
    expect(health.stdout).toMatch(/^readyz: 200 ok/m);
    expect(at(await json(["health"]), "ready")).toBe(true);
  });
});

describe("gwctl usage and requests", () => {
  it("queries usage and lists requests with a stable shape", async () => {
    const usage = await json([
      "usage",
      "--by",
      "instance,model",
      "--by",
      "provider",
      "--bucket",
      "hour",
      "--since",
      "2h",
    ]);
    for (const row of arr(usage, "rows")) {
      expect(row).toMatchObject({ requests: expect.any(String), costUsd: expect.any(Number) });
    }
    const table = await gwctl(["usage", "--by", "instance"]);
    expect(table.stdout).toMatch(
      /^INSTANCE\s+REQUESTS\s+ERRORS\s+INPUT\s+OUTPUT\s+CACHE READ\s+COST USD\s+P50 MS\s+P95 MS/m,
    );
    const requests = await json(["requests", "--limit", "5"]);
    expect(arr(requests, "requests").length).toBeLessThanOrEqual(5);
    expect(typeof at(requests, "nextPageToken")).toBe("string");
    expectOneErrorLine(await gwctl(["usage", "--by", "colour"]), 2);
    expectOneErrorLine(
      await gwctl(["usage", "--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"]),
      2,
    );
    expect(expectOneErrorLine(await gwctl(["requests", "get", "req_missing"]), 1)).toBe(
      'gwctl: not found: request "req_missing"',
    );
  });

  it("follows live requests and finds them in the history", async () => {
    const inst = `feed-${uid()}`;
    await json(["instances", "create", inst]);
    const key = await json(["keys", "create", "--instance", inst]);
    const secret = str(key, "secret");
    secrets.push(secret);

    const follower = startGwctl(gw, ["requests", "--follow", "--instance", inst, "--output", "json"]);
    let out = "";
    let err = "";
    let requestId = "";
    try {
      follower.stderr?.on("data", (c: Buffer) => (err += c.toString()));
      const firstLine = new Promise<string>((res, rej) => {
        follower.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          const nl = out.indexOf("\n");
          if (nl >= 0) res(out.slice(0, nl));
        });
        follower.once("exit", (code) => rej(new Error(`--follow exited ${code}: ${err}`)));
      });
      const send = (): Promise<Response> =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "hello feed" }] }),
        });
      // The feed only sees requests made after it subscribed, and nothing signals that moment:
      // keep sending until the first record arrives.
      let line: string | undefined;
      for (let attempt = 0; attempt < 40 && line === undefined; attempt++) {
        const res = await send();
        expect(res.status, await res.text()).toBe(200);
        line = await Promise.race([firstLine, new Promise<undefined>((r) => setTimeout(r, 500, undefined))]);
      }
      expect(line, `no record on the feed; stderr: ${err}`).toBeDefined();
      const event = JSON.parse(line ?? "{}") as unknown;
      expect(at(event, "record", "instanceId")).toBe(inst);
      requestId = str(event, "record", "id");

      const exited = new Promise<number | null>((res) => follower.once("exit", (code) => res(code)));
      follower.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (follower.exitCode === null && follower.signalCode === null) follower.kill("SIGKILL");
      transcript.push(out, err);
    }

    // The feed can see a record before the batched writer stores it: retry until it is stored.
    const got = await eventually(() => json(["requests", "get", requestId]));
    expect(at(got, "request")).toMatchObject({ id: requestId, instanceId: inst });
    const listed = await json(["requests", "--instance", inst]);
    expect(arr(listed, "requests").map((r) => at(r, "id"))).toContain(requestId);
    const usage = await json(["usage", "--by", "instance", "--instance", inst]);
    expect(at(arr(usage, "rows")[0], "instanceId")).toBe(inst);
  });
});

describe("gwctl errors", () => {
  it("reports a wrong token, a bad flag, an unreachable server and a missing token in one line", async () => {
    const wrong = `kg_admin_wrong_${uid()}${uid()}`;
    const unauth = await gwctl(["instances", "list"], { env: { KEYGATE_ADMIN_TOKEN: wrong } });
    expect(expectOneErrorLine(unauth, 1)).toBe(
      "gwctl: unauthenticated: check --token or KEYGATE_ADMIN_TOKEN",
    );
    expect(unauth.stderr + unauth.stdout).not.toContain(wrong);
    const viaFlag = await gwctl(["--token", wrong, "status"], { env: { KEYGATE_ADMIN_TOKEN: undefined } });
    expect(viaFlag.stderr).not.toContain(wrong);
    expect(viaFlag.code).toBe(1);

    expect(expectOneErrorLine(await gwctl(["instances", "list", "--bogus"]), 2)).toMatch(/--bogus/);
    expectOneErrorLine(await gwctl(["instances", "list", "--limit", "many"]), 2);
    expectOneErrorLine(await gwctl(["--output", "yaml", "status"]), 2);
    expectOneErrorLine(await gwctl(["frobnicate"]), 2);

    const closed = `http://127.0.0.1:${await closedPort()}`;
    const down = await gwctl(["status", "--server", closed]);
    expect(expectOneErrorLine(down, 1)).toBe(`gwctl: cannot reach ${closed}: connection refused`);
    const downHealth = await gwctl(["health", "--server", closed]);
    expect(expectOneErrorLine(downHealth, 1)).toBe(`gwctl: cannot reach ${closed}: connection refused`);

    const noToken = await gwctl(["status"], {
      env: { KEYGATE_ADMIN_TOKEN: undefined, KEYGATE_DATA_DIR: undefined },
    });
    expect(expectOneErrorLine(noToken, 2)).toMatch(/^gwctl: no admin token/);
  });

  it("reads the admin token from admin.token in the data directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gwctl-data-"));
    try {
      writeFileSync(join(dir, "admin.token"), `${gw.token}\n`, { mode: 0o600 });
      const r = await gwctl(["status", "--output", "json"], {
        env: { KEYGATE_ADMIN_TOKEN: undefined, KEYGATE_DATA_DIR: dir },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(str(JSON.parse(r.stdout), "version")).not.toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("printed no admin token, virtual key or credential where it must not", () => {
    const all = transcript.join("\n");
    expect(all.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(5);
    // The admin token and provider credentials never appear; a key or token secret appears only
    // in the one command that created it (checked in the tests above).
    expect(all).not.toContain(gw.token);
    for (const s of secrets.filter((x) => x.startsWith("sk-SENTINEL-"))) expect(all).not.toContain(s);
  });
});
