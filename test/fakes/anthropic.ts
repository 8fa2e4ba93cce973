// The Anthropic Messages wire format.
// Shapes: @anthropic-ai/sdk types Message, Usage, RawMessageStreamEvent, MessageTokensCount, ModelInfo
// (resources/messages/messages.d.ts, resources/models.d.ts) and recorded API streams: message_start
// (usage with input/cache counts and output_tokens 1), content_block_start, ping, content_block_delta
// (text_delta / input_json_delta), content_block_stop, message_delta (stop_reason, usage.output_tokens),
// message_stop; each as `event: <type>` + `data:`.
// Errors (docs.anthropic.com/en/api/errors): `{ type: "error", error: { type, message }, request_id }`,
// a request-id header on every answer; mid-stream failures arrive as `event: error`. The
// anthropic-version header is required but any value is accepted (the SDK sends its own date).
import {
  answerPieces,
  answerText,
  isRecord,
  lastUserText,
  makeToolCalls,
  splitInto,
  toolCallCount,
} from "./content.js";
import type { ToolCall } from "./content.js";
import { ev, jsonReply, retryAfterHeader, streamReply } from "./reply.js";
import type { ErrorOptions, FakeUsage, FamilyDef, HandlerContext, Reply, StreamEvent } from "./types.js";

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ["invalid_request_error", "Invalid request."],
  401: ["authentication_error", "invalid x-api-key"],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  404: ["not_found_error", "The requested resource could not be found."],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: [
    "rate_limit_error",
    "This request would exceed the rate limit for your organization. Please try again later.",
  ],
  500: ["api_error", "Internal server error"],
  529: ["overloaded_error", "Overloaded"],
};

let requestCounter = 0;
function requestId(): string {
  requestCounter += 1;
  return `req_fake${String(requestCounter).padStart(8, "0")}`;
}

export function anthropicError(opts: ErrorOptions): Reply {
  const fallback: [string, string] =
    opts.status >= 500
      ? ["api_error", "Internal server error"]
      : ["invalid_request_error", "Invalid request."];
  const [type, message] = ERROR_TYPES[opts.status] ?? fallback;
  const notFound = opts.status === 404 && opts.model ? `model: ${opts.model}` : undefined;
  const rid = requestId();
  return jsonReply(
    opts.status,
    { type: "error", error: { type, message: opts.message ?? notFound ?? message }, request_id: rid },
    { "request-id": rid, ...retryAfterHeader(opts.retryAfter) },
  );
}

/**
 * The documented header is x-api-key; the installed @anthropic-ai/sdk (1.11, client.mjs apiKeyAuth)
 * sends the API key as `Authorization: Bearer`, so both are accepted.
 */
function presentedKey(headers: Record<string, string>): string | undefined {
  if (headers["x-api-key"] !== undefined) return headers["x-api-key"];
  return /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "")?.[1];
}

function authenticate(headers: Record<string, string>, _q: unknown, expected: string | undefined) {
  const key = presentedKey(headers);
  if (key === undefined || key === "") {
    return anthropicError({ status: 401, message: "x-api-key header is required" });
  }
  if (expected !== undefined && key !== expected) return anthropicError({ status: 401 });
  if (!headers["anthropic-version"]) {
    return anthropicError({ status: 400, message: "anthropic-version: header is required" });
  }
  return undefined;
}

function usageObject(u: FakeUsage, output: number): Record<string, unknown> {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWrite, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    service_tier: "standard",
  };
}

function required(body: Record<string, unknown>): Reply | undefined {
  for (const field of ["model", "max_tokens", "messages"]) {
    if (body[field] === undefined)
      return anthropicError({ status: 400, message: `${field}: Field required` });
  }
  return undefined;
}

function toolCallsFor(ctx: HandlerContext): ToolCall[] {
  const tools = ctx.body.tools;
  const hasTools = Array.isArray(tools) && tools.length > 0;
  const count = toolCallCount(ctx.toolCalls, hasTools, lastUserText(ctx.body.messages));
  const first: unknown = hasTools ? tools[0] : undefined;
  const name = isRecord(first) && typeof first.name === "string" ? first.name : "get_weather";
  return makeToolCalls(name, count);
}

function messages(ctx: HandlerContext): Reply {
  const invalid = required(ctx.body);
  if (invalid) return invalid;
  const calls = toolCallsFor(ctx);
  const id = ctx.id("msg_fake");
  const toolIds = calls.map(() => ctx.id("toolu_fake"));
  const stopReason = calls.length > 0 ? "tool_use" : "end_turn";
  const rid = requestId();
  if (!ctx.stream) {
    const content =
      calls.length > 0
        ? calls.map((c, i) => ({ type: "tool_use", id: toolIds[i], name: c.name, input: c.input }))
        : [{ type: "text", text: answerText(ctx.pieces) }];
    return jsonReply(
      200,
      {
        id,
        type: "message",
        role: "assistant",
        model: ctx.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: usageObject(ctx.usage, ctx.usage.output),
      },
      { "request-id": rid },
    );
  }

  const events: StreamEvent[] = [];
  const push = (payload: Record<string, unknown>): void => {
    events.push(ev(payload, String(payload.type)));
  };
  push({
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usageObject(ctx.usage, 1),
    },
  });
  if (calls.length === 0) {
    push({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    push({ type: "ping" });
    for (const text of answerPieces(ctx.pieces)) {
      push({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } });
    }
    push({ type: "content_block_stop", index: 0 });
  } else {
    calls.forEach((call, index) => {
      push({
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: toolIds[index], name: call.name, input: {} },
      });
      if (index === 0) push({ type: "ping" });
      const fragments = ["", ...splitInto(call.arguments, ctx.pieces)];
      for (const partial_json of fragments) {
        push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } });
      }
      push({ type: "content_block_stop", index });
    });
  }
  push({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: ctx.usage.output },
  });
  push({ type: "message_stop" });
  return streamReply("sse", events, "text/event-stream; charset=utf-8", { "request-id": rid });
}

function overloadedEvent(): StreamEvent[] {
  return [ev({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error")];
}

function countTokens(ctx: HandlerContext): Reply {
  if (ctx.body.model === undefined) return anthropicError({ status: 400, message: "model: Field required" });
  if (ctx.body.messages === undefined)
    return anthropicError({ status: 400, message: "messages: Field required" });
  return jsonReply(200, { input_tokens: ctx.usage.input }, { "request-id": requestId() });
}

function models(ctx: HandlerContext): Reply {
  const data = ctx.models.map((id) => ({
    type: "model",
    id,
    display_name: id,
    created_at: "2025-05-22T00:00:00Z",
  }));
  return jsonReply(
    200,
    { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null },
    { "request-id": requestId() },
  );
}

export const ANTHROPIC_MODELS = ["claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"];

const at = (path: string) => (p: string) => (p === path ? { model: "" } : undefined);

export const anthropic: FamilyDef = {
  family: "anthropic",
  authenticate,
  error: anthropicError,
  routes: [
    {
      route: "anthropic.messages",
      method: "POST",
      match: at("/v1/messages"),
      isStream: (b) => b.stream === true,
      handle: messages,
      streamError: overloadedEvent,
    },
    {
      route: "anthropic.count_tokens",
      method: "POST",
      match: at("/v1/messages/count_tokens"),
      isStream: () => false,
      handle: countTokens,
    },
    {
      route: "anthropic.models",
      method: "GET",
      // Shared path with OpenAI: only calls that carry Anthropic headers land here.
      match: (p, h) =>
        p === "/v1/models" && (h["anthropic-version"] !== undefined || h["x-api-key"] !== undefined)
          ? { model: "" }
          : undefined,
      isStream: () => false,
      handle: models,
    },
  ],
};
