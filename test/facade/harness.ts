// End-to-end harness for the inference façade: one fake upstream speaking every provider's wire
// format, one real gateway whose config points each provider at it (with sentinel credentials
// passed through ${ENV} interpolation, as the setup guide recommends), and Admin API helpers to
// issue keys and read back the usage records.
import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { startFakeUpstream, type FakeUpstream, type ReceivedRequest } from "../fakes/server.js";
import type { AdminClient, RequestRecord, UsageRow } from "../../sdk/index.js";

export const MODELS = {
  openai: "gpt-4o",
  openaiMini: "gpt-4o-mini",
  embedding: "text-embedding-3-small",
  /** A model no price table knows: its cost must be recorded as unknown, never as 0. */
  unpriced: "gpt-unpriced-e2e",
  anthropic: "claude-sonnet-4-20250514",
  gemini: "gemini-2.0-flash",
  ollama: "llama3.2:latest",
  echo: "echo-1",
  /** An alias keygate renames to gpt-4o-mini before forwarding. */
  alias: "fast-chat",
} as const;

export interface Price {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/** Prices the gateway is configured with, so expected costs come from the test's own config. */
export const PRICES: Record<string, Price> = {
  [MODELS.openai]: { input: 2.5, output: 10, cacheRead: 1.25 },
  [MODELS.openaiMini]: { input: 0.15, output: 0.6, cacheRead: 0.075 },
  [MODELS.embedding]: { input: 0.02, output: 0 },
  [MODELS.anthropic]: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  [MODELS.gemini]: { input: 0.1, output: 0.4, cacheRead: 0.025 },
};

export interface Tokens {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/** USD for a usage at a price given per million tokens. */
export function costOf(price: Price, t: Tokens): number {
  const cr = t.cacheRead ?? 0;
  const cw = t.cacheWrite ?? 0;
  return (
    (t.input * price.input +
      t.output * price.output +
      cr * (price.cacheRead ?? price.input) +
      cw * (price.cacheWrite ?? price.input)) /
    1_000_000
  );
}

export interface Credentials {
  openai: string;
  anthropic: string;
  google: string;
  ollama: string;
}

/** Real-looking provider credentials that must never leave the gateway except to their upstream. */
export function sentinelCredentials(): Credentials {
  const s = (name: string): string => `sk-SENTINEL-${name}-${randomBytes(12).toString("hex")}`;
  return { openai: s("openai"), anthropic: s("anthropic"), google: s("google"), ollama: s("ollama") };
}

/** Environment variables the config interpolates the credentials from. */
export const ENV_NAMES: Record<keyof Credentials, string> = {
  openai: "KG_E2E_OPENAI_KEY",
  anthropic: "KG_E2E_ANTHROPIC_KEY",
  google: "KG_E2E_GOOGLE_KEY",
  ollama: "KG_E2E_OLLAMA_KEY",
};

/** The providers section: every family served by the fake, plus the in-process echo provider. */
export function fakeProviders(fakeUrl: string): Record<string, unknown> {
  return {
    openai: {
      type: "openai",
      apiKey: `\${${ENV_NAMES.openai}}`,
      baseUrl: `${fakeUrl}/v1`,
      models: [MODELS.openai, MODELS.openaiMini, MODELS.embedding, MODELS.unpriced],
    },
    anthropic: {
      type: "anthropic",
      apiKey: `\${${ENV_NAMES.anthropic}}`,
      baseUrl: fakeUrl,
      models: [MODELS.anthropic, "claude-3-5-haiku-20241022"],
    },
    google: {
      type: "google",
      apiKey: `\${${ENV_NAMES.google}}`,
      baseUrl: fakeUrl,
      models: [MODELS.gemini],
    },
    ollama: {
      type: "ollama",
      apiKey: `\${${ENV_NAMES.ollama}}`,
      baseUrl: fakeUrl,
      models: [MODELS.ollama],
    },
    echo: { type: "echo", models: [MODELS.echo] },
  };
}

export interface FacadeEnv {
  fake: FakeUpstream;
  gw: TestGateway;
  admin: AdminClient;
  creds: Credentials;
  /** Clears the fake's recorded requests, faults and settings, and re-arms the credential checks. */
  resetFake(): void;
  close(): Promise<void>;
}

/** Attempts per upstream: a fault must repeat this often to reach the client. */
export const ATTEMPTS = 2;

/**
 * Quick, predictable retries, and a circuit breaker that never opens during a test file (its own
 * tests cover it), so one test's failures cannot refuse the next test's requests.
 */
const ROUTING = {
  aliases: { [MODELS.alias]: [{ provider: "openai", model: MODELS.openaiMini }] },
  retry: { maxAttempts: ATTEMPTS, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 100 },
  breaker: { failureThreshold: 100_000 },
};

export interface FacadeOptions {
  /** Extra providers (merged over the fake's), e.g. one pointing at a closed port or a relay. */
  providers?: (fake: FakeUpstream) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Other config sections (server, routing, logging, ...). */
  config?: Record<string, unknown>;
  databaseUrl?: string;
}

export async function startFacade(opts: FacadeOptions = {}): Promise<FacadeEnv> {
  const fake = await startFakeUpstream();
  const creds = sentinelCredentials();
  const env: Record<string, string> = {};
  for (const k of Object.keys(ENV_NAMES) as (keyof Credentials)[]) env[ENV_NAMES[k]] = creds[k];
  let gw: TestGateway;
  try {
    const extra = opts.providers ? await opts.providers(fake) : {};
    const config: Record<string, unknown> = {
      providers: { ...fakeProviders(fake.url), ...extra },
      routing: ROUTING,
      pricing: PRICES,
      // Every log line the gateway can write is checked for secrets.
      logging: { level: "trace", requests: true },
      ...opts.config,
    };
    gw = await startTestGateway({
      config,
      env,
      ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    });
  } catch (err) {
    await fake.close();
    throw err;
  }
  const arm = (): void => {
    fake.expectCredential("openai", creds.openai);
    fake.expectCredential("anthropic", creds.anthropic);
    fake.expectCredential("google", creds.google);
    fake.expectCredential("ollama", creds.ollama);
  };
  arm();
  return {
    fake,
    gw,
    admin: gw.admin,
    creds,
    resetFake() {
      fake.reset({ settings: true });
      arm();
    },
    async close() {
      await gw.close();
      await fake.close();
    },
  };
}

/**
 * One façade for a test file: started before its tests, closed after them, and the fake reset
 * before each. The result reads through to the running façade, so it is used like startFacade's.
 */
export function useFacade(opts: FacadeOptions = {}): FacadeEnv {
  let started: FacadeEnv | undefined;
  beforeAll(async () => {
    started = await startFacade(opts);
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(() => started?.resetFake());
  const current = (): FacadeEnv => {
    if (!started) throw new Error("the façade runs only while the file's tests do");
    return started;
  };
  return {
    get fake() {
      return current().fake;
    },
    get gw() {
      return current().gw;
    },
    get admin() {
      return current().admin;
    },
    get creds() {
      return current().creds;
    },
    resetFake: () => current().resetFake(),
    close: () => current().close(),
  };
}

export interface IssuedKey {
  instanceId: string;
  keyId: string;
  secret: string;
}

/** A fresh instance with one key, so each test's records and totals are its own. */
export async function issueKey(
  admin: AdminClient,
  opts: { allowedModels?: string[] } = {},
): Promise<IssuedKey> {
  const instanceId = `e2e-${randomUUID().slice(0, 8)}`;
  await admin.createInstance({ instanceId, instance: { displayName: `façade test ${instanceId}` } });
  const created = await admin.createKey({
    instanceId,
    displayName: "e2e",
    allowedModels: opts.allowedModels ?? [],
  });
  if (!created.key || !created.secret) throw new Error("CreateKey returned no key or secret");
  return { instanceId, keyId: created.key.id, secret: created.secret };
}

/** Every record of an instance, newest first. */
export async function listRecords(admin: AdminClient, instanceId: string): Promise<RequestRecord[]> {
  const res = await admin.listRequests({ filter: { instanceIds: [instanceId] }, pageSize: 1000 });
  return res.requests;
}

/**
 * Polls ListRequests until the record of `requestId` was flushed by the background writer.
 * The deadline bounds the wait; the poll interval is not a stand-in for synchronisation.
 */
export async function waitForRecord(
  admin: AdminClient,
  instanceId: string,
  requestId: string,
  timeoutMs = 30_000,
): Promise<RequestRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await listRecords(admin, instanceId)).find((r) => r.id === requestId);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no usage record for request ${requestId} after ${timeoutMs} ms`);
    await delay(50);
  }
}

/** Polls until the instance has at least `count` records. */
export async function waitForRecords(
  admin: AdminClient,
  instanceId: string,
  count: number,
  timeoutMs = 30_000,
): Promise<RequestRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await listRecords(admin, instanceId);
    if (records.length >= count) return records;
    if (Date.now() > deadline)
      throw new Error(
        `instance ${instanceId} has ${records.length} of ${count} records after ${timeoutMs} ms`,
      );
    await delay(50);
  }
}

/** The instance's ungrouped QueryUsage row over the last hour. */
export async function usageTotals(admin: AdminClient, instanceId: string): Promise<UsageRow | undefined> {
  const end = new Date(Date.now() + 60_000);
  const start = new Date(end.getTime() - 3_600_000);
  const res = await admin.queryUsage({
    startTime: { seconds: BigInt(Math.floor(start.getTime() / 1000)), nanos: 0 },
    endTime: { seconds: BigInt(Math.floor(end.getTime() / 1000)), nanos: 0 },
    filter: { instanceIds: [instanceId] },
  });
  return res.rows[0];
}

/** The x-request-id keygate returns; every record is keyed by it. */
export function requestIdOf(headers: Headers): string {
  const id = headers.get("x-request-id");
  if (!id) throw new Error("response has no x-request-id header");
  return id;
}

/** A record's (or usage row's) token counts as plain numbers, to compare with the fake's. */
export function tokensOf(r: RequestRecord | UsageRow): Required<Tokens> {
  return {
    input: Number(r.inputTokens),
    output: Number(r.outputTokens),
    cacheRead: Number(r.cacheReadTokens),
    cacheWrite: Number(r.cacheWriteTokens),
  };
}

export function fullTokens(t: Tokens): Required<Tokens> {
  return { input: t.input, output: t.output, cacheRead: t.cacheRead ?? 0, cacheWrite: t.cacheWrite ?? 0 };
}

/** Everything a JSON-ish value says, for searching secrets in Admin API answers. */
export function dump(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Every place a recorded upstream request could carry a credential. */
export function requestText(r: ReceivedRequest): string {
  return `${r.method} ${r.path}?${new URLSearchParams(r.query).toString()}\n${dump(r.headers)}\n${r.raw}`;
}

/** A JSON POST to the gateway, as the plain-HTTP clients of Gemini and Ollama send it. */
export function postJson(
  env: FacadeEnv,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${env.gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

export function lastRequest(fake: FakeUpstream): ReceivedRequest {
  const r = fake.requests.at(-1);
  if (!r) throw new Error("the fake upstream received no request");
  return r;
}
