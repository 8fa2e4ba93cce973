// Shared set-up for the routing end-to-end tests: a real gateway whose providers all point at fake
// upstreams, virtual keys issued through the Admin API, the official SDK clients, and polling
// helpers that wait on real conditions (a flushed record, a breaker state) under a deadline.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { ConnectError, Code } from "@connectrpc/connect";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { createTestDatabase, postgresUrl, type TestDatabase } from "../helpers/pg.js";
import type { AdminClient, Provider, RequestRecord } from "../../sdk/index.js";

export const MODELS = {
  openai: "gpt-4o",
  anthropic: "claude-sonnet-4-20250514",
  gemini: "gemini-2.0-flash",
  ollama: "llama3.2:latest",
} as const;

/** A provider block of the config file, pointed at a fake upstream (its own URL layout per family). */
export function provider(
  type: "openai" | "anthropic" | "google" | "ollama",
  fakeUrl: string,
  models: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const baseUrl = type === "openai" ? `${fakeUrl}/v1` : fakeUrl;
  const apiKey = type === "ollama" ? {} : { apiKey: `sk-${type}-${randomBytes(6).toString("hex")}` };
  return { type, baseUrl, models, ...apiKey, ...extra };
}

export interface RoutingGateway extends TestGateway {
  /** Closes the gateway and drops its Postgres database, if it had one. */
  dispose(): Promise<void>;
}

/**
 * A gateway on a fresh Postgres database of its own when TEST_DATABASE_URL is set (change
 * notifications then travel through real LISTEN/NOTIFY), else on embedded PGlite.
 */
export async function startRoutingGateway(
  config: Record<string, unknown>,
  opts: { env?: Record<string, string> } = {},
): Promise<RoutingGateway> {
  const db: TestDatabase | undefined = postgresUrl() ? await createTestDatabase("kg_routing") : undefined;
  const full = { usage: { flushIntervalMs: 20 }, logging: { level: "warn", requests: false }, ...config };
  let gw: TestGateway;
  try {
    gw = await startTestGateway({
      config: full,
      env: opts.env ?? {},
      ...(db ? { databaseUrl: db.url } : {}),
    });
  } catch (err) {
    await db?.drop();
    throw err;
  }
  return {
    ...gw,
    async dispose() {
      await gw.close();
      await db?.drop();
    },
  };
}

export interface IssuedKey {
  instanceId: string;
  keyId: string;
  secret: string;
}

/** A fresh instance with one key; either may carry a default routing tag. */
export async function issueKey(
  admin: AdminClient,
  opts: { keyTag?: string; instanceTag?: string } = {},
): Promise<IssuedKey> {
  const instanceId = `rt-${randomUUID().slice(0, 8)}`;
  await admin.createInstance({
    instanceId,
    instance: { displayName: `routing ${instanceId}`, tag: opts.instanceTag ?? "" },
  });
  const created = await admin.createKey({ instanceId, displayName: "routing", tag: opts.keyTag ?? "" });
  if (!created.key || !created.secret) throw new Error("CreateKey returned no key or secret");
  return { instanceId, keyId: created.key.id, secret: created.secret };
}

export function openaiClient(gw: TestGateway, key: IssuedKey, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.secret, maxRetries: 0, defaultHeaders: headers });
}

export function anthropicClient(
  gw: TestGateway,
  key: IssuedKey,
  headers: Record<string, string> = {},
): Anthropic {
  return new Anthropic({ baseURL: gw.url, apiKey: key.secret, maxRetries: 0, defaultHeaders: headers });
}

/** The x-request-id keygate answers with; the usage record carries the same id. */
export function requestIdOf(headers: Headers): string {
  const id = headers.get("x-request-id");
  if (!id) throw new Error("response has no x-request-id header");
  return id;
}

/**
 * Calls `probe` until it yields a value or the deadline passes. The pause between calls only
 * paces the polling; what is waited for is the condition itself.
 */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

/** The usage record of one request, once the background writer flushed it. */
export function waitForRecord(
  admin: AdminClient,
  requestId: string,
  timeoutMs = 30_000,
): Promise<RequestRecord> {
  return poll(
    `the usage record of ${requestId}`,
    async () => {
      try {
        return (await admin.getRequest({ id: requestId })).request;
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.NotFound) return undefined;
        throw err;
      }
    },
    timeoutMs,
  );
}

/** Every record of an instance once it has `count` of them, newest first. */
export function waitForRecords(
  admin: AdminClient,
  instanceId: string,
  count: number,
): Promise<RequestRecord[]> {
  return poll(`${count} records of ${instanceId}`, async () => {
    const res = await admin.listRequests({ filter: { instanceIds: [instanceId] }, pageSize: 1000 });
    return res.requests.length >= count ? res.requests : undefined;
  });
}

/** The attempts of a record as plain tuples, for whole-list comparisons. */
export function attemptsOf(r: RequestRecord): { provider: string; status: number; errorClass: string }[] {
  return r.attempts.map((a) => ({ provider: a.providerId, status: a.statusCode, errorClass: a.errorClass }));
}

export async function providerView(admin: AdminClient, id: string): Promise<Provider> {
  const found = (await admin.listProviders({})).providers.find((p) => p.id === id);
  if (!found) throw new Error(`ListProviders has no provider ${id}`);
  return found;
}

/** A 127.0.0.1 port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
