// One inference request, end to end: authenticate from memory, authorize, route, forward with
// the real credential, stream the answer back chunk by chunk while a tap reads usage, and queue
// exactly one usage record — for failures and client disconnects too.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { checkPrincipal, type Principal } from "../auth/principal.js";
import type { Api, ExtractedUsage, ProviderAdapter, StreamTap, WireFamily } from "../providers/types.js";
import type { RouteTarget } from "../routing/router.js";
import type { AttemptRecord, TokenUsage, UsageRecord } from "../usage/record.js";
import { BodyTooLarge, readBody } from "./body.js";
import type { FacadeDeps, UpstreamProvider } from "./deps.js";
import { sendError, streamErrorEvent, type ErrorKind } from "./errors.js";
import { presentedKey, responseHeaders, upstreamHeaders } from "./headers.js";
import { withGeminiModel, withIncludeUsage } from "./request-edit.js";
import { requestInfo } from "./request-info.js";
import type { FacadeRoute } from "./routes.js";
import { createSseToJsonArray, createUsageChunkStripper, type ChunkFilter } from "./stream-filter.js";
import { classifyUpstreamError, splitBaseUrl } from "./upstream.js";
import { isRetryable, parseRetryAfter, retryDelay } from "../routing/retry.js";
import { servesApi } from "../providers/index.js";
import {
  createStreamTranslator,
  translateError,
  translateRequest,
  translateResponse,
  TranslationError,
  type ClientFamily,
} from "../translate/index.js";
import { callUpstream, type UpstreamCall, type UpstreamHead } from "./upstream-call.js";
import { createCapture, type Capture } from "../usage/capture.js";
import { requestId } from "../usage/request-id.js";
import { estimateTokens, estimatedUsage } from "../usage/taps/estimate.js";
import { isCountTokens } from "../usage/taps/index.js";
import { redactSecrets } from "../secrets/redact.js";
import type { Header, Ticket } from "../limits/index.js";
import { refusesUnpriced, scopesOf } from "./limit-scopes.js";

type InferenceRoute = Extract<FacadeRoute, { kind: "inference" }>;
type Obj = Record<string, unknown>;

/** Per-request state, one plain object. */
interface Ctx {
  id: string;
  t0: number;
  api: Api;
  family: WireFamily;
  clientIp: string;
  principal?: Principal;
  record: UsageRecord;
  /** Time spent inside keygate before the upstream call, and after its headers arrived. */
  overheadMs: number;
  clientClosed: boolean;
  /** Type of the provider of the last attempt, for pricing. */
  providerType?: UpstreamProvider["type"];
  /** The limiter's reservation, settled when the request finishes. */
  ticket?: Ticket;
  /** x-ratelimit-* headers for the response. */
  limitHeaders: Header[];
  /** Conversation capture, when the instance opted in. */
  capture?: Capture;
  /** The request body for the log line, only with logging.includePrompts (secrets redacted). */
  prompt?: string;
  /** A Gemini stream the client wants as a JSON array (no alt=sse). */
  jsonArray: boolean;
  /** Input text of a request whose answer reports no token counts (see RequestInfo). */
  unreportedInputChars: number | undefined;
  /** A complete answer that reported no usage, where one was expected: its cost is unknown. */
  usageUnreported: boolean;
}

/** Client APIs that can be served by a provider of another wire family (see translate/). */
const TRANSLATABLE: ReadonlySet<Api> = new Set<Api>(["openai.chat", "anthropic.messages"]);

/** The API a provider family serves a translated chat request on. */
const CHAT_API: Record<WireFamily, Api> = {
  openai: "openai.chat",
  anthropic: "anthropic.messages",
  google: "google.generate",
  ollama: "ollama.chat",
};

/** Output tokens reserved (limits and budgets) for a request that sets no max_tokens. */
const DEFAULT_OUTPUT_RESERVATION = 1024;

function newRecord(
  id: string,
  api: Api,
  clientIp: string,
  userAgent: string,
  replicaId: string,
): UsageRecord {
  return {
    id,
    time: new Date(),
    instanceId: "",
    keyId: "",
    providerId: "",
    api,
    requestedModel: "",
    servedModel: "",
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: null,
    statusCode: 0,
    errorClass: "",
    latencyMs: 0,
    ttfbMs: null,
    stream: false,
    clientIp,
    userAgent,
    fallback: false,
    attempts: [],
    replicaId,
  };
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

export async function handleInference(
  d: FacadeDeps,
  route: InferenceRoute,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams | undefined,
  clientIp: string,
  t0: number,
): Promise<void> {
  const id = requestId();
  const ua = req.headers["user-agent"] ?? "";
  const ctx: Ctx = {
    id,
    t0,
    api: route.api,
    family: route.family,
    clientIp,
    record: newRecord(id, route.api, clientIp, ua, d.replicaId),
    overheadMs: 0,
    clientClosed: false,
    limitHeaders: [],
    jsonArray: false,
    unreportedInputChars: undefined,
    usageUnreported: false,
  };
  const refuse = (kind: ErrorKind, message: string, headers: [string, string][] = []): void => {
    req.resume();
    ctx.overheadMs = performance.now() - t0;
    // A client that already left (say while its body was unread) is recorded as having left.
    if (res.destroyed) {
      if (ctx.principal) finish(d, ctx, 499, "client_closed");
      return;
    }
    const status = sendError(res, ctx.family, kind, message, [...headers, overheadHeader(ctx)], id);
    if (ctx.principal) finish(d, ctx, status, kind);
  };

  // 1. Authenticate from memory (a miss loads once from the database; failure there fails closed).
  const secret = presentedKey(req.headers, query);
  if (!secret)
    return refuse("unauthorized", "Missing API key. Pass your keygate key as the provider API key.");
  let principal: Principal | undefined;
  try {
    const r = d.keys.resolve(secret);
    principal = r instanceof Promise ? await r : r;
  } catch (err) {
    d.logger.error({ reqId: id, err: (err as Error).message }, "key lookup failed");
    return refuse("unavailable", "Authentication is temporarily unavailable; retry shortly.");
  }
  if (!principal) return refuse("unauthorized", "Invalid API key.");
  ctx.principal = principal;
  ctx.record.instanceId = principal.instanceId;
  ctx.record.keyId = principal.id;
  const refusal = checkPrincipal(principal, clientIp, Date.now());
  if (refusal) return refuse(refusal.kind, refusal.message);
  if (principal.kind === "key") d.touchKey(principal.id);

  // 2. Read and parse the body once.
  let raw: Buffer;
  try {
    raw = await readBody(req, d.config.server.bodyLimitBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge)
      return refuse(
        "too_large",
        `Request body exceeds the limit of ${d.config.server.bodyLimitBytes} bytes.`,
      );
    return refuse("bad_request", "Could not read the request body.");
  }
  let body: Obj;
  try {
    const v: unknown = JSON.parse(raw.toString("utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    body = v as Obj;
  } catch {
    return refuse("bad_request", "Request body is not a valid JSON object.");
  }
  const info = requestInfo(route.api, body);
  const model = route.model ?? info.model;
  const stream = route.stream ?? info.stream;
  ctx.record.stream = stream;
  ctx.jsonArray = route.api === "google.generate" && stream && query?.get("alt") !== "sse";
  ctx.unreportedInputChars = info.unreportedInputChars;
  if (!model) return refuse("bad_request", "The request must name a model (the `model` field).");
  ctx.record.requestedModel = model;

  if (d.config.logging.includePrompts) ctx.prompt = redactSecrets(raw.subarray(0, 8192).toString("utf8"));
  if (principal.captureMode !== "none")
    ctx.capture = createCapture(principal.captureMode, raw, body, d.config.capture.maxBodyBytes);

  // 3. Authorize the model and route it.
  if (!principal.allowsModel(model)) return refuse("forbidden", `This key may not use the model '${model}'.`);
  const tagHeader = req.headers["x-keygate-tag"];
  const targets = d.router().resolve({
    model,
    maxTokens: info.maxTokens,
    tag: typeof tagHeader === "string" && tagHeader ? tagHeader : principal.tag,
  });
  const translatable = TRANSLATABLE.has(route.api);
  let usable = targets.filter((t) => translatable || servesApi(d.adapterFor(t.provider.type), route.api));
  if (usable.length === 0) {
    return refuse(
      "model_not_found",
      targets.length === 0
        ? `The model '${model}' does not exist or is not served by this gateway.`
        : `The model '${model}' is not served in the ${ctx.family} wire format by any configured provider.`,
    );
  }

  // 4. Limits and budgets: one atomic admission (memory, or one Redis round trip) covering every scope.
  const scopes = scopesOf(d, principal);
  if (scopes.length > 0) {
    const estimatedInput = Math.ceil(raw.length / 4);
    const estimatedOutput = info.maxTokens ?? DEFAULT_OUTPUT_RESERVATION;
    const worst = {
      inputTokens: estimatedInput,
      outputTokens: estimatedOutput,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    };
    const costs = usable.map((t) => d.costFor(t.model, t.provider.type, worst));
    // Under a USD budget, targets without a price are skipped (see refusesUnpriced); counting
    // tokens costs nothing at any price.
    if (costs.includes(null) && !isCountTokens(route.api) && refusesUnpriced(d, scopes)) {
      usable = usable.filter((_, i) => costs[i] !== null);
      if (usable.length === 0)
        return refuse(
          "forbidden",
          `The model '${model}' has no known price, so its cost cannot be counted against this key's USD budget. ` +
            "The operator can set its price (the pricing section of the config).",
        );
    }
    let maxCost: number | null = null;
    for (const c of costs) if (c !== null && (maxCost === null || c > maxCost)) maxCost = c;
    const adm = await d.limiter.admit({
      scopes,
      estimatedTokens: estimatedInput + estimatedOutput,
      maxCostUsd: maxCost,
    });
    if (!adm.ok) {
      const kind: ErrorKind =
        adm.reason === "budget"
          ? "insufficient_quota"
          : adm.reason === "unavailable"
            ? "unavailable"
            : "rate_limited";
      return refuse(kind, adm.message, adm.headers);
    }
    ctx.ticket = adm.ticket;
    ctx.limitHeaders = adm.headers;
  }

  // 5. Forward: retry with backoff, then fall back along the chain — only while nothing has
  // reached the client. Once the first byte is out, a failure ends the response.
  const onClose = (): void => {
    if (!res.writableFinished) ctx.clientClosed = true;
  };
  // A client that left while the request was being prepared gets no upstream call: its "close"
  // has fired already, and a paid completion nobody reads is the one thing not to start.
  if (res.destroyed) return void finish(d, ctx, 499, "client_closed");
  res.on("close", onClose);
  const retry = d.config.routing.retry;
  let lastFailure: Failure | undefined;
  let tried = false;
  for (let i = 0; i < usable.length; i++) {
    const target = usable[i]!;
    if (!d.breakers.allow(target.provider.id)) continue;
    for (let n = 1; ; n++) {
      ctx.record.fallback = i > 0;
      tried = true;
      const outcome = await attempt(d, ctx, target, body, raw, stream, res);
      if (outcome.kind === "done") return;
      lastFailure = outcome;
      if (ctx.clientClosed) return void finish(d, ctx, 499, "client_closed");
      if (n >= retry.maxAttempts || !isRetryable(outcome.status, outcome.errorClass)) break;
      const wait = retryDelay(retry, n, outcome.retryAfterMs);
      if (wait === undefined) break;
      if (!(await sleepUnlessClosed(wait, res))) return void finish(d, ctx, 499, "client_closed");
    }
  }
  if (!tried) {
    ctx.record.servedModel = usable[0]!.model;
    return refuse(
      "unavailable",
      `Every provider serving '${model}' is temporarily unavailable (circuit open); retry shortly.`,
    );
  }
  sendFailure(d, ctx, res, lastFailure!);
}

/** An attempt that failed before anything reached the client, and may be retried or passed on. */
interface Failure {
  kind: "failed";
  providerId: string;
  /** Wire family of the upstream that answered (its error body is in that family's shape). */
  family: WireFamily;
  status: number;
  errorClass: string;
  retryAfterMs?: number;
  /** For failures keygate itself detected (e.g. a feature the target cannot express). */
  message?: string;
  /** The upstream's own error response (status >= 400), kept to pass through if nothing else works. */
  upstream?: { headers: Record<string, string | string[] | undefined>; body: Buffer };
}

type AttemptOutcome = { kind: "done" } | Failure;

const DONE: AttemptOutcome = { kind: "done" };

/** Waits, unless the client goes away first. Resolves false if it did. */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve(false);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(true);
    }, ms);
    res.once("close", onClose);
  });
}

/** An upstream error body re-shaped for a client of another family. */
function translatedError(from: WireFamily, to: WireFamily, status: number, body: Buffer): Buffer {
  return Buffer.from(JSON.stringify(translateError(from, to as ClientFamily, status, body)));
}

/** Upstream error bodies are kept up to this size (for passing through or translating). */
const ERROR_BODY_LIMIT = 65_536;

/** Replaces the content-type in a flat header list. */
function setContentType(headers: string[], value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === "content-type") {
      headers[i + 1] = value;
      return;
    }
  }
  headers.push("content-type", value);
}

/** Time inside keygate so far, for responses keygate writes itself. */
function overheadHeader(ctx: Ctx): [string, string] {
  return ["x-keygate-overhead-ms", ctx.overheadMs.toFixed(3)];
}

/** Every attempt failed: pass the last upstream error through, or say what went wrong. */
function sendFailure(d: FacadeDeps, ctx: Ctx, res: ServerResponse, f: Failure): void {
  if (f.errorClass === "translation_unsupported") {
    const status = sendError(
      res,
      ctx.family,
      "bad_request",
      f.message ?? "Unsupported request.",
      [...ctx.limitHeaders, overheadHeader(ctx)],
      ctx.id,
    );
    return void finish(d, ctx, status, f.errorClass);
  }
  if (f.upstream && !res.headersSent) {
    const body =
      f.family === ctx.family
        ? f.upstream.body
        : translatedError(f.family, ctx.family, f.status, f.upstream.body);
    const headers =
      f.family === ctx.family
        ? responseHeaders(f.upstream.headers, false)
        : ["content-type", "application/json"];
    if (f.family !== ctx.family && f.upstream.headers["retry-after"] !== undefined)
      headers.push("retry-after", String(f.upstream.headers["retry-after"]));
    for (const [k, v] of ctx.limitHeaders) headers.push(k, v);
    headers.push("content-length", String(body.length), "x-request-id", ctx.id, ...overheadHeader(ctx));
    res.writeHead(f.status, headers);
    res.end(body);
    return void finish(d, ctx, f.status, f.errorClass);
  }
  const kind: ErrorKind = f.errorClass === "upstream_timeout" ? "upstream_timeout" : "upstream_error";
  const msg =
    f.errorClass === "upstream_timeout"
      ? `The upstream provider '${f.providerId}' timed out.`
      : `The upstream provider '${f.providerId}' could not be reached.`;
  const status = sendError(res, ctx.family, kind, msg, [overheadHeader(ctx)], ctx.id);
  finish(d, ctx, status, f.errorClass);
}

async function attempt(
  d: FacadeDeps,
  ctx: Ctx,
  target: RouteTarget<UpstreamProvider>,
  body: Obj,
  raw: Buffer,
  stream: boolean,
  res: ServerResponse,
): Promise<AttemptOutcome> {
  const p = target.provider;
  const rec = ctx.record;
  rec.providerId = p.id;
  rec.servedModel = target.model;
  ctx.providerType = p.type;
  const started = performance.now();
  const attemptRec: AttemptRecord = {
    providerId: p.id,
    model: target.model,
    statusCode: 0,
    latencyMs: 0,
    errorClass: "",
  };
  rec.attempts.push(attemptRec);
  const endAttempt = (status: number, errorClass: string): void => {
    attemptRec.statusCode = status;
    attemptRec.errorClass = errorClass;
    attemptRec.latencyMs = performance.now() - started;
    if (errorClass === "client_closed") return;
    if (isRetryable(status, errorClass)) d.breakers.failure(p.id);
    else d.breakers.success(p.id);
  };

  if (p.type === "echo") {
    const r = d.echo(ctx.api, { ...body, model: target.model }, stream);
    ctx.overheadMs = performance.now() - ctx.t0;
    const arrayFilter = ctx.jsonArray && r.status < 400 ? createSseToJsonArray() : undefined;
    const headers = [...r.headers.flat(), ...ctx.limitHeaders.flat()];
    if (arrayFilter) setContentType(headers, "application/json; charset=UTF-8");
    res.writeHead(r.status, [
      ...headers,
      "x-request-id",
      ctx.id,
      "x-keygate-overhead-ms",
      ctx.overheadMs.toFixed(3),
    ]);
    if (r.chunks instanceof Uint8Array) {
      rec.ttfbMs = performance.now() - ctx.t0;
      ctx.capture?.response(r.chunks);
      res.end(r.chunks);
    } else {
      for await (const c of r.chunks) {
        if (rec.ttfbMs === null) rec.ttfbMs = performance.now() - ctx.t0;
        if (ctx.clientClosed) break;
        const out = arrayFilter ? arrayFilter.push(c) : c;
        if (!out) continue;
        ctx.capture?.response(out);
        if (!res.write(out)) await waitDrain(res);
      }
      const tail = arrayFilter?.end?.();
      if (tail) ctx.capture?.response(tail);
      res.end(tail);
    }
    applyUsage(rec, r.usage);
    endAttempt(r.status, "");
    finish(d, ctx, ctx.clientClosed ? 499 : r.status, ctx.clientClosed ? "client_closed" : "");
    return DONE;
  }

  const adapter = d.adapterFor(p.type);
  const translating = adapter.family !== ctx.family;
  const upstreamApi = translating ? CHAT_API[adapter.family] : ctx.api;
  let payload: Buffer | string = raw;
  let stripper: ChunkFilter | undefined = ctx.jsonArray ? createSseToJsonArray() : undefined;
  if (translating) {
    try {
      payload = JSON.stringify(
        translateRequest(ctx.family as ClientFamily, adapter.family, body, { model: target.model, stream })
          .body,
      );
    } catch (err) {
      if (!(err instanceof TranslationError)) throw err;
      endAttempt(400, "translation_unsupported");
      return {
        kind: "failed",
        providerId: p.id,
        family: adapter.family,
        status: 400,
        errorClass: "translation_unsupported",
        message: err.message,
      };
    }
  } else {
    // Same wire format: forward the original bytes unless the request really has to change. The
    // parsed body is never modified, so a retry or a fallback starts from the client's request.
    // Gemini names the model in the path (a batch's requests name it again, see below).
    const model = ctx.family !== "google" && body.model !== target.model ? target.model : undefined;
    let streamOptions: Obj | undefined;
    if (ctx.api === "openai.chat" && stream) {
      const so = body.stream_options as Obj | undefined;
      if (!so || so.include_usage !== true) {
        streamOptions = { ...(so ?? {}), include_usage: true };
        stripper = createUsageChunkStripper();
      }
    }
    const spliced =
      model === undefined && streamOptions && body.stream_options === undefined
        ? withIncludeUsage(raw)
        : undefined;
    if (spliced) payload = spliced;
    else if (model !== undefined || streamOptions) {
      payload = JSON.stringify({
        ...body,
        ...(model !== undefined && { model }),
        ...(streamOptions && { stream_options: streamOptions }),
      });
    } else if (
      ctx.family === "google" &&
      ctx.api !== "google.generate" &&
      target.model !== ctx.record.requestedModel
    ) {
      const renamed = withGeminiModel(body, target.model);
      if (renamed) payload = JSON.stringify(renamed);
    }
  }

  const base = p.baseUrl ?? adapter.defaultBaseUrl;
  const { origin, prefix } = splitBaseUrl(base);
  const path = prefix + adapter.upstreamPath(upstreamApi, target.model, stream);
  const inject: [string, string][] = p.credential ? adapter.credentialHeaders(p.credential) : [];
  for (const k in p.headers) inject.push([k.toLowerCase(), p.headers[k]!]);
  const headers = upstreamHeaders(
    res.req.rawHeaders,
    inject,
    adapter.defaultHeaders(),
    typeof payload === "string" ? Buffer.byteLength(payload) : payload.length,
    translating,
  );

  const call = callUpstream(d.upstreams.pool(origin, p.timeouts), {
    path,
    method: "POST",
    headers,
    body: payload,
    headersTimeout: p.timeouts.firstByteMs,
    bodyTimeout: p.timeouts.idleMs,
  });
  const onClientClose = (): void => {
    if (!res.writableFinished) call.abort();
  };
  res.on("close", onClientClose);
  const totalTimer = setTimeout(
    () => call.abort(new DOMException("total timeout", "TimeoutError") as Error),
    p.timeouts.totalMs,
  );
  const tDispatch = performance.now();
  if (ctx.overheadMs === 0) ctx.overheadMs = tDispatch - ctx.t0;
  let upstreamStatus = 0;
  try {
    const up = await call.head;
    upstreamStatus = up.statusCode;
    if (isRetryable(up.statusCode, "")) {
      const errorBody = await call.collect(ERROR_BODY_LIMIT);
      const errorClass = up.statusCode === 429 ? "upstream_rate_limited" : "upstream_error";
      endAttempt(up.statusCode, errorClass);
      return {
        kind: "failed",
        providerId: p.id,
        family: adapter.family,
        status: up.statusCode,
        errorClass,
        retryAfterMs: parseRetryAfter(up.headers["retry-after"]),
        upstream: { headers: up.headers, body: errorBody },
      };
    }
    if (translating)
      return await relayTranslated(
        d,
        ctx,
        up,
        call,
        adapter,
        upstreamApi,
        target,
        stream,
        raw,
        body,
        res,
        endAttempt,
      );
    const ok = up.statusCode < 400;
    const tap: StreamTap | undefined =
      ok && stream
        ? adapter.createStreamTap(ctx.api, { estimatedInputTokens: Math.ceil(raw.length / 4) })
        : undefined;
    const collected: Buffer[] | undefined = ok && !stream ? [] : undefined;
    const tHeaders = performance.now();
    ctx.overheadMs = tDispatch - ctx.t0 + (performance.now() - tHeaders);
    const outHeaders = responseHeaders(up.headers, stripper === undefined);
    if (ctx.jsonArray && ok) setContentType(outHeaders, "application/json; charset=UTF-8");
    for (const [k, v] of ctx.limitHeaders) outHeaders.push(k, v);
    outHeaders.push("x-request-id", ctx.id, "x-keygate-overhead-ms", ctx.overheadMs.toFixed(3));
    res.writeHead(up.statusCode, outHeaders);
    const filter = ok ? stripper : undefined;
    try {
      // Each chunk goes on as it arrives; a full client socket pauses the upstream one.
      await call.pipe((chunk) => {
        if (rec.ttfbMs === null) rec.ttfbMs = performance.now() - ctx.t0;
        if (tap) tap.push(chunk);
        else if (collected) collected.push(chunk);
        const out = filter ? filter.push(chunk) : chunk;
        if (!out) return true;
        if (ctx.capture) ctx.capture.response(out);
        return res.write(out);
      }, res);
    } catch (err) {
      const cls = ctx.clientClosed ? "client_closed" : (classifyUpstreamError(err) ?? "upstream_reset");
      if (tap) applyUsage(rec, tap.result());
      if (cls !== "client_closed" && stream && !res.destroyed) {
        res.end(
          streamErrorEvent(
            ctx.family,
            "upstream_error",
            `The upstream provider '${p.id}' failed mid-stream.`,
          ),
        );
      } else if (!res.destroyed) res.destroy();
      endAttempt(upstreamStatus, cls);
      finish(d, ctx, cls === "client_closed" ? 499 : 502, cls);
      return DONE;
    }
    if (ctx.clientClosed) {
      if (tap) applyUsage(rec, tap.result());
      endAttempt(upstreamStatus, "client_closed");
      finish(d, ctx, 499, "client_closed");
      return DONE;
    }
    const tail = filter?.end?.();
    if (tail) ctx.capture?.response(tail);
    res.end(tail);
    if (tap) {
      applyUsage(rec, tap.result());
      if (tap.streamError()) {
        endAttempt(upstreamStatus, "upstream_stream_error");
        finish(d, ctx, upstreamStatus, "upstream_stream_error");
        return DONE;
      }
    }
    const errorClass = ok ? "" : "upstream_client_error";
    endAttempt(upstreamStatus, errorClass);
    // The answer is on its way to the client; its usage is read with the rest of the bookkeeping.
    const usageFrom =
      collected && collected.length > 0
        ? () =>
            adapter.usageFromBody(
              ctx.api,
              collected.length === 1 ? collected[0]! : Buffer.concat(collected),
            ) ?? unreportedUsage(ctx)
        : undefined;
    finish(d, ctx, upstreamStatus, errorClass, usageFrom);
    return DONE;
  } catch (err) {
    // No response headers from upstream: connection refused, timeout, or the client left.
    const cls = ctx.clientClosed ? "client_closed" : (classifyUpstreamError(err) ?? "upstream_error");
    endAttempt(0, cls);
    if (cls === "client_closed") {
      finish(d, ctx, 499, cls);
      return DONE;
    }
    return { kind: "failed", providerId: p.id, family: adapter.family, status: 0, errorClass: cls };
  } finally {
    clearTimeout(totalTimer);
    res.off("close", onClientClose);
  }
}

/**
 * Relays an upstream answer of another wire family: a stream is translated event by event as it
 * arrives (no buffering of the whole answer); a complete body is translated once it is complete.
 */
async function relayTranslated(
  d: FacadeDeps,
  ctx: Ctx,
  up: UpstreamHead,
  call: UpstreamCall,
  adapter: ProviderAdapter,
  upstreamApi: Api,
  target: RouteTarget<UpstreamProvider>,
  stream: boolean,
  raw: Buffer,
  body: Obj,
  res: ServerResponse,
  endAttempt: (status: number, errorClass: string) => void,
): Promise<AttemptOutcome> {
  const rec = ctx.record;
  const p = target.provider;
  const to = ctx.family as ClientFamily;
  const upstreamStatus = up.statusCode;
  const tHeaders = performance.now();
  const baseHeaders = (contentType: string): string[] => {
    const h = ["content-type", contentType];
    for (const [k, v] of ctx.limitHeaders) h.push(k, v);
    h.push(
      "x-request-id",
      ctx.id,
      "x-keygate-overhead-ms",
      (ctx.overheadMs + performance.now() - tHeaders).toFixed(3),
    );
    return h;
  };
  if (upstreamStatus >= 400) {
    const errBody = translatedError(
      adapter.family,
      ctx.family,
      upstreamStatus,
      await call.collect(ERROR_BODY_LIMIT),
    );
    res.writeHead(upstreamStatus, [
      ...baseHeaders("application/json"),
      "content-length",
      String(errBody.length),
    ]);
    res.end(errBody);
    endAttempt(upstreamStatus, "upstream_client_error");
    finish(d, ctx, upstreamStatus, "upstream_client_error");
    return DONE;
  }

  if (!stream) {
    const bytes = await call.collect(Number.POSITIVE_INFINITY);
    const u = adapter.usageFromBody(upstreamApi, bytes);
    if (u) applyUsage(rec, u);
    else ctx.usageUnreported = true;
    const out = Buffer.from(
      JSON.stringify(
        translateResponse(adapter.family, to, bytes, { requestedModel: rec.requestedModel, id: ctx.id }),
      ),
    );
    rec.ttfbMs = performance.now() - ctx.t0;
    res.writeHead(200, [...baseHeaders("application/json"), "content-length", String(out.length)]);
    ctx.capture?.response(out);
    res.end(out);
    endAttempt(upstreamStatus, "");
    finish(d, ctx, 200, "");
    return DONE;
  }

  const so = body.stream_options as Obj | undefined;
  const translator = createStreamTranslator(adapter.family, to, {
    requestedModel: rec.requestedModel,
    id: ctx.id,
    includeUsage: to === "anthropic" || so?.include_usage === true,
  });
  const tap = adapter.createStreamTap(upstreamApi, { estimatedInputTokens: Math.ceil(raw.length / 4) });
  res.writeHead(200, [...baseHeaders("text/event-stream; charset=utf-8"), "cache-control", "no-cache"]);
  /** Writes translated events; false when the client socket is full. */
  const write = (chunks: Uint8Array[]): boolean => {
    let room = true;
    for (const c of chunks) {
      if (rec.ttfbMs === null) rec.ttfbMs = performance.now() - ctx.t0;
      ctx.capture?.response(c);
      room = res.write(c) && room;
    }
    return room;
  };
  try {
    await call.pipe((chunk) => {
      tap.push(chunk);
      return write(translator.push(chunk));
    }, res);
  } catch (err) {
    const cls = ctx.clientClosed ? "client_closed" : (classifyUpstreamError(err) ?? "upstream_reset");
    applyUsage(rec, tap.result());
    if (cls !== "client_closed" && !res.destroyed) {
      res.end(
        streamErrorEvent(ctx.family, "upstream_error", `The upstream provider '${p.id}' failed mid-stream.`),
      );
    } else if (!res.destroyed) res.destroy();
    endAttempt(upstreamStatus, cls);
    finish(d, ctx, cls === "client_closed" ? 499 : 502, cls);
    return DONE;
  }
  applyUsage(rec, tap.result());
  if (ctx.clientClosed) {
    endAttempt(upstreamStatus, "client_closed");
    finish(d, ctx, 499, "client_closed");
    return DONE;
  }
  write(translator.end());
  res.end();
  const streamErr = tap.streamError() ? "upstream_stream_error" : "";
  endAttempt(upstreamStatus, streamErr);
  finish(d, ctx, upstreamStatus, streamErr);
  return DONE;
}

/** Usage estimated from the request, for an API whose answers report none. */
function unreportedUsage(ctx: Ctx): ExtractedUsage | undefined {
  return ctx.unreportedInputChars === undefined
    ? undefined
    : estimatedUsage({}, 0, { estimatedInputTokens: estimateTokens(ctx.unreportedInputChars) });
}

function applyUsage(rec: UsageRecord, u: ExtractedUsage): void {
  rec.inputTokens = u.inputTokens;
  rec.outputTokens = u.outputTokens;
  rec.cacheReadTokens = u.cacheReadTokens;
  rec.cacheWriteTokens = u.cacheWriteTokens;
  if (u.servedModel) rec.servedModel = u.servedModel;
}

/**
 * Stamps the request's outcome and time now, and leaves the rest (usage from a complete answer,
 * price, limiter settlement, the usage record, the log line) to the end of this event-loop turn.
 */
function finish(
  d: FacadeDeps,
  ctx: Ctx,
  status: number,
  errorClass: string,
  usageFrom?: () => ExtractedUsage | undefined,
): void {
  const rec = ctx.record;
  rec.statusCode = status;
  rec.errorClass = errorClass;
  rec.latencyMs = performance.now() - ctx.t0;
  rec.overheadMs = ctx.overheadMs;
  if (ctx.capture) rec.capture = ctx.capture.result();
  d.afterResponse(() => {
    if (usageFrom) {
      const u = usageFrom();
      if (u) applyUsage(rec, u);
      else ctx.usageUnreported = true;
    }
    settleAndRecord(d, ctx);
  });
}

/**
 * The price of the model the upstream reports serving, else of the model keygate asked it for (an
 * upstream may answer with a name of its own that no price is listed under).
 */
function costOf(
  d: FacadeDeps,
  rec: UsageRecord,
  providerType: UpstreamProvider["type"],
  usage: TokenUsage = rec,
): number | null {
  const cost = d.costFor(rec.servedModel || rec.requestedModel, providerType, usage);
  const asked = rec.attempts.at(-1)?.model;
  return cost === null && asked !== undefined && asked !== rec.servedModel
    ? d.costFor(asked, providerType, usage)
    : cost;
}

const ONE_TOKEN_EACH: TokenUsage = {
  inputTokens: 1,
  outputTokens: 1,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

/**
 * The cost of an answer that reported no usage: 0 on a free model (a local one, or priced at 0),
 * otherwise unknown, so a budget keeps the request's reservation rather than counting $0.
 */
function unreportedCost(d: FacadeDeps, rec: UsageRecord, providerType: UpstreamProvider["type"]): 0 | null {
  return costOf(d, rec, providerType, ONE_TOKEN_EACH) === 0 ? 0 : null;
}

function settleAndRecord(d: FacadeDeps, ctx: Ctx): void {
  const rec = ctx.record;
  const { statusCode: status, errorClass } = rec;
  // A request refused before any upstream call consumed nothing, nor does counting tokens: their
  // cost is known to be 0.
  rec.costUsd =
    !ctx.providerType || isCountTokens(ctx.api)
      ? 0
      : ctx.usageUnreported
        ? unreportedCost(d, rec, ctx.providerType)
        : costOf(d, rec, ctx.providerType);
  if (ctx.ticket) {
    d.limiter.settle(ctx.ticket, {
      tokens: ctx.usageUnreported
        ? null
        : rec.inputTokens + rec.outputTokens + rec.cacheReadTokens + rec.cacheWriteTokens,
      costUsd: rec.costUsd,
    });
    ctx.ticket = undefined;
  }
  d.recorder.record(rec);
  if (d.config.logging.requests) {
    d.logger.info(
      {
        reqId: rec.id,
        instance: rec.instanceId,
        key: rec.keyId,
        api: rec.api,
        model: rec.requestedModel,
        servedModel: rec.servedModel,
        provider: rec.providerId,
        status,
        errorClass: errorClass || undefined,
        stream: rec.stream,
        inputTokens: rec.inputTokens,
        outputTokens: rec.outputTokens,
        costUsd: rec.costUsd,
        latencyMs: Math.round(rec.latencyMs * 1000) / 1000,
        ttfbMs: rec.ttfbMs === null ? undefined : Math.round(rec.ttfbMs * 1000) / 1000,
        overheadMs: Math.round(ctx.overheadMs * 1000) / 1000,
        attempts: rec.attempts.length > 1 ? rec.attempts.length : undefined,
        prompt: ctx.prompt,
      },
      "request",
    );
  }
}
