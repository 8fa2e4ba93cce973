// Small client-side helpers shared by the multi-replica suites: inference calls, error shapes,
// polling with a deadline, percentiles.
import { beforeEach, expect } from "vitest";
import { request } from "undici";
import type { AdminClient } from "../../sdk/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PolicySchema } from "../../sdk/gen/keygate/v1/policy_pb.js";
import type { ReplicaSet } from "../helpers/replicas.js";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

export const ECHO_PROVIDERS = { echo: { type: "echo", models: ["echo-1"], default: true } };

/** POST /v1/chat/completions with a virtual key, as the openai SDK sends it. */
export async function chat(
  baseUrl: string,
  secret: string,
  body: Record<string, unknown> = {},
): Promise<Reply> {
  const payload = {
    model: "echo-1",
    messages: [{ role: "user", content: "ping" }],
    max_tokens: 1,
    ...body,
  };
  const res = await request(`${baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text };
}

/** POST /v1/messages with a virtual key, as the Anthropic SDK sends it. */
export async function anthropicMessage(baseUrl: string, secret: string): Promise<Reply> {
  const res = await request(`${baseUrl}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": secret, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "echo-1", max_tokens: 1, messages: [{ role: "user", content: "ping" }] }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(text) as unknown, text };
}

export interface OpenAiError {
  message: string;
  type: string;
  code: string | null;
}

/** Asserts OpenAI's error shape `{error: {message, type, param, code}}` and returns the inner object. */
export function openAiError(reply: Reply): OpenAiError {
  const body = reply.body;
  expect(body, `not OpenAI's error shape: ${reply.text}`).toMatchObject({
    error: { message: expect.any(String), type: expect.any(String) },
  });
  const err = (body as { error: Record<string, unknown> }).error;
  expect(["string", "object"]).toContain(typeof err.code);
  return {
    message: err.message as string,
    type: err.type as string,
    code: (err.code ?? null) as string | null,
  };
}

/** Retry-After as whole seconds; fails unless the header is a positive integer. */
export function retryAfter(reply: Reply): number {
  const v = reply.headers["retry-after"];
  expect(typeof v, "Retry-After header").toBe("string");
  expect(v as string).toMatch(/^\d+$/);
  const n = Number(v);
  expect(n).toBeGreaterThanOrEqual(1);
  return n;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${what}${why}`);
}

export interface Readiness {
  status: number;
  checks: { name: string; ok: boolean; message?: string }[];
}

export async function readyz(baseUrl: string): Promise<Readiness> {
  const res = await request(`${baseUrl}/readyz`);
  const body = (await res.body.json()) as { checks?: Readiness["checks"] };
  return { status: res.statusCode, checks: body.checks ?? [] };
}

export function check(r: Readiness, name: string): boolean | undefined {
  return r.checks.find((c) => c.name === name)?.ok;
}

export async function healthz(baseUrl: string): Promise<number> {
  const res = await request(`${baseUrl}/healthz`);
  await res.body.dump();
  return res.statusCode;
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** An instance (optionally with a policy) and one key for it. */
export async function instanceWithKey(
  admin: AdminClient,
  instanceId: string,
  policy?: MessageInitShape<typeof PolicySchema>,
): Promise<{ instanceId: string; keyId: string; secret: string }> {
  await admin.createInstance({ instanceId, instance: policy ? { policy } : {} });
  const { key, secret } = await admin.createKey({ instanceId, displayName: `${instanceId}-key` });
  if (!key) throw new Error("CreateKey returned no key");
  return { instanceId, keyId: key.id, secret };
}

/**
 * Stops a replica set in afterAll and, if a test in scope failed, prints what the replicas logged
 * as warnings or errors (their logs are complete only once they stopped). Call at describe scope.
 */
export function stopReplicasAfter(get: () => ReplicaSet | undefined): () => Promise<void> {
  let failed = false;
  beforeEach(({ onTestFailed }) => onTestFailed(() => void (failed = true)));
  return async () => {
    const set = get();
    if (!set) return;
    await set.stop();
    if (failed) console.log(`replica warnings and errors:\n${set.problems()}`);
  };
}
