// One 127.0.0.1 HTTP server that speaks OpenAI, Anthropic, Gemini and Ollama at once, records
// every request and injects faults on demand. The format modules build answers; this file
// only routes, authenticates, applies faults and writes bytes.
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { anthropic, ANTHROPIC_MODELS } from "./anthropic.js";
import { DEFAULT_PIECES, isRecord, str } from "./content.js";
import { handleControl } from "./control.js";
import { createFaultQueue } from "./faults.js";
import type { Fault, FaultOptions } from "./faults.js";
import { gemini, GEMINI_MODELS } from "./gemini.js";
import { ollama, OLLAMA_MODELS } from "./ollama.js";
import { openai, OPENAI_MODELS } from "./openai.js";
import { writeReply } from "./writer.js";
import type { StreamErrorFn } from "./writer.js";
import type {
  FakeUsage,
  FamilyDef,
  HandlerContext,
  ReceivedRequest,
  Reply,
  RouteDef,
  WireFamily,
} from "./types.js";

export type { FakeRoute, FakeUsage, FaultScope, ReceivedRequest, WireFamily } from "./types.js";
export type { FaultOptions } from "./faults.js";

const FAMILIES: FamilyDef[] = [openai, anthropic, gemini, ollama];
const FAMILY_NAMES: WireFamily[] = ["openai", "anthropic", "google", "ollama"];

export const DEFAULT_USAGE: Readonly<FakeUsage> = Object.freeze({
  input: 10,
  output: 20,
  cacheRead: 0,
  cacheWrite: 0,
});

const DEFAULT_MODELS: Record<WireFamily, string[]> = {
  openai: OPENAI_MODELS,
  anthropic: ANTHROPIC_MODELS,
  google: GEMINI_MODELS,
  ollama: OLLAMA_MODELS,
};

export interface UsageInput {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface FakeUpstream {
  /** Origin, e.g. http://127.0.0.1:41234 (OpenAI base URL is `${url}/v1`). */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first (control calls excluded). */
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
  /** Clears queued faults and recorded requests; with `settings`, also restores every setting. */
  reset(opts?: { settings?: boolean }): void;
  /** Requests of `family` carrying any other credential get that provider's real rejection. */
  expectCredential(family: WireFamily, value: string | undefined): void;
  setUsage(family: WireFamily, usage: UsageInput): void;
  setModels(family: WireFamily, models: string[]): void;
  /**
   * The model name answers report for a requested model (OpenAI answers `gpt-4o` with a dated
   * snapshot's name, and OpenAI-compatible hosts with names of their own).
   */
  answerAs(family: WireFamily, requested: string, reported: string): void;
  /**
   * Complete (non-streamed) answers of `family` leave their usage out, as some OpenAI-compatible
   * servers do, and Ollama's counters when a prompt was served from its cache.
   */
  withholdUsage(family: WireFamily): void;
  /** Force this many tool calls on OpenAI chat and Anthropic messages; undefined = decide from the request. */
  toolCalls(count: number | undefined): void;
  /** Content pieces per streamed answer and the pause before every event after the first. */
  streamChunks(n: number, delayMs?: number): void;
  fail(opts: { status: number; retryAfter?: number; message?: string } & FaultOptions): void;
  /** Wait this long before sending headers. */
  delay(ms: number, opts?: FaultOptions): void;
  /** Accept the request and never answer until the fake closes. */
  hang(opts?: FaultOptions): void;
  resetMidStream(opts?: { afterChunks?: number } & FaultOptions): void;
  malformedChunk(opts?: { afterChunks?: number } & FaultOptions): void;
  /** End a stream with the provider's mid-stream error event (Anthropic `event: error`, …). */
  streamError(opts?: { afterChunks?: number } & FaultOptions): void;
  /** Resolves with the first recorded request (past or future) that matches. */
  waitForRequest(predicate?: (r: ReceivedRequest) => boolean): Promise<ReceivedRequest>;
}

export interface StartOptions {
  port?: number;
  /** Serve the /__fake/* control API (for a fake running in another process). */
  control?: boolean;
}

interface Settings {
  usage: Record<WireFamily, FakeUsage>;
  models: Record<WireFamily, string[]>;
  credentials: Partial<Record<WireFamily, string>>;
  reportedModels: Partial<Record<WireFamily, Record<string, string>>>;
  withheldUsage: Set<WireFamily>;
  toolCalls: number | undefined;
  pieces: number;
  chunkDelayMs: number;
}

function defaultSettings(): Settings {
  const perFamily = <T>(make: (f: WireFamily) => T): Record<WireFamily, T> =>
    Object.fromEntries(FAMILY_NAMES.map((f) => [f, make(f)])) as Record<WireFamily, T>;
  return {
    usage: perFamily(() => ({ ...DEFAULT_USAGE })),
    models: perFamily((f) => [...DEFAULT_MODELS[f]]),
    credentials: {},
    reportedModels: {},
    withheldUsage: new Set(),
    toolCalls: undefined,
    pieces: DEFAULT_PIECES,
    chunkDelayMs: 0,
  };
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  if (raw.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

interface Found {
  family: FamilyDef;
  def: RouteDef;
  model: string;
  pathStream: boolean | undefined;
}

function findRoute(
  method: string,
  path: string,
  headers: Record<string, string>,
  query: Record<string, string>,
) {
  for (const family of FAMILIES) {
    for (const def of family.routes) {
      if (def.method !== method) continue;
      const m = def.match(path, headers, query);
      if (m) return { family, def, model: m.model, pathStream: m.stream } satisfies Found;
    }
  }
  return undefined;
}

/** Unknown paths answer like the server whose prefix they use. */
function notFound(method: string, path: string): Reply {
  if (path.startsWith("/api/")) {
    return {
      kind: "text",
      status: 404,
      headers: { "content-type": "text/plain" },
      body: "404 page not found",
    };
  }
  if (path.startsWith("/v1beta/"))
    return gemini.error({ status: 404, message: "Requested entity was not found." });
  return openai.error({ status: 404, message: `Invalid URL (${method} ${path})` });
}

/** Usage fields of complete answers, per family's format (Ollama: its counters). */
const USAGE_FIELDS = [
  "usage",
  "usageMetadata",
  "prompt_eval_count",
  "prompt_eval_duration",
  "eval_count",
  "eval_duration",
];

function withoutUsage(reply: Reply): void {
  if (reply.kind !== "json" || reply.status >= 400) return;
  const body = reply.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return;
  for (const field of USAGE_FIELDS) delete (body as Record<string, unknown>)[field];
}

export async function startFakeUpstream(opts: StartOptions = {}): Promise<FakeUpstream> {
  let settings = defaultSettings();
  const faults = createFaultQueue();
  const requests: ReceivedRequest[] = [];
  const waiters: { predicate: (r: ReceivedRequest) => boolean; resolve: (r: ReceivedRequest) => void }[] = [];
  const closing = new AbortController();
  let idCounter = 0;

  const record = (r: ReceivedRequest): void => {
    requests.push(r);
    for (const w of [...waiters]) {
      if (w.predicate(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  };

  const pause = async (ms: number): Promise<void> => {
    if (ms <= 0) return;
    await sleep(ms, undefined, { signal: closing.signal }).catch(() => undefined);
  };

  const sendReply = (
    res: ServerResponse,
    reply: Reply,
    fault?: Fault,
    onError?: StreamErrorFn,
  ): Promise<void> =>
    writeReply(res, reply, { fault, streamError: onError, pause: () => pause(settings.chunkDelayMs) });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? "GET";
    const headers = flatHeaders(req);
    const raw = await readBody(req);
    const parsed = parseJson(raw);

    if (opts.control && path.startsWith("/__fake/")) {
      const answer = handleControl(fake, method, path, parsed.ok ? parsed.value : undefined);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
      return;
    }

    const found = findRoute(method, path, headers, query);
    const body = parsed.ok && isRecord(parsed.value) ? parsed.value : {};
    const stream = found ? (found.pathStream ?? found.def.isStream(body)) : false;
    record({
      method,
      path,
      query,
      headers,
      body: parsed.ok ? parsed.value : undefined,
      raw,
      route: found?.def.route,
      family: found?.family.family,
      stream,
    });
    if (!found) return sendReply(res, notFound(method, path));

    const { family, def } = found;
    const model = found.model !== "" ? found.model : str(body.model, "");
    const ctx: HandlerContext = {
      body,
      query,
      headers,
      model: settings.reportedModels[family.family]?.[model] ?? model,
      stream,
      usage: { ...settings.usage[family.family] },
      pieces: settings.pieces,
      toolCalls: settings.toolCalls,
      models: settings.models[family.family],
      id: (prefix) => `${prefix}${String(++idCounter).padStart(6, "0")}`,
      now: Math.floor(Date.now() / 1000),
    };

    const rejected = family.authenticate(headers, query, settings.credentials[family.family]);
    if (rejected) return sendReply(res, rejected);
    if (!parsed.ok && method === "POST") {
      return sendReply(res, family.error({ status: 400, message: "The request body is not valid JSON." }));
    }

    const fault = faults.take(def.route, family.family, stream);
    if (fault?.kind === "hang") return; // the socket stays open until close()
    if (fault?.kind === "delay") await pause(fault.ms);
    if (closing.signal.aborted) return;
    if (fault?.kind === "fail") {
      const err = family.error({
        status: fault.status,
        retryAfter: fault.retryAfter,
        message: fault.message,
        model,
      });
      return sendReply(res, err);
    }
    const reply = def.handle(ctx);
    if (settings.withheldUsage.has(family.family)) withoutUsage(reply);
    return sendReply(res, reply, fault, (sent) => def.streamError?.(ctx, sent) ?? []);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`fake upstream error: ${err instanceof Error ? err.message : String(err)}`);
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FakeUpstream = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    reset(o = {}) {
      faults.clear();
      requests.length = 0;
      if (o.settings) settings = defaultSettings();
    },
    expectCredential(family, value) {
      if (value === undefined) delete settings.credentials[family];
      else settings.credentials[family] = value;
    },
    setUsage(family, u) {
      settings.usage[family] = {
        input: u.input,
        output: u.output,
        cacheRead: u.cacheRead ?? 0,
        cacheWrite: u.cacheWrite ?? 0,
      };
    },
    setModels(family, models) {
      settings.models[family] = [...models];
    },
    withholdUsage(family) {
      settings.withheldUsage.add(family);
    },
    answerAs(family, requested, reported) {
      (settings.reportedModels[family] ??= {})[requested] = reported;
    },
    toolCalls(count) {
      settings.toolCalls = count;
    },
    streamChunks(n, delayMs = 0) {
      if (!(n >= 1)) throw new Error(`streamChunks needs at least 1 piece, got ${n}`);
      settings.pieces = Math.floor(n);
      settings.chunkDelayMs = delayMs;
    },
    fail({ status, retryAfter, message, ...scope }) {
      faults.add({ kind: "fail", status, retryAfter, message }, scope);
    },
    delay(ms, scope) {
      faults.add({ kind: "delay", ms }, scope);
    },
    hang(scope) {
      faults.add({ kind: "hang" }, scope);
    },
    resetMidStream({ afterChunks = 2, ...scope } = {}) {
      faults.add({ kind: "resetMidStream", afterChunks }, scope);
    },
    malformedChunk({ afterChunks = 2, ...scope } = {}) {
      faults.add({ kind: "malformedChunk", afterChunks }, scope);
    },
    streamError({ afterChunks = 2, ...scope } = {}) {
      faults.add({ kind: "streamError", afterChunks }, scope);
    },
    waitForRequest(predicate = () => true) {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
  return fake;
}
