// OpenAI POST /v1/chat/completions.
// Shapes: openai-node types ChatCompletion / ChatCompletionChunk / CompletionUsage
// (resources/chat/completions/completions.d.ts, resources/completions.d.ts) and recorded API
// streams (role delta with content "" and refusal null first, finish chunk with empty delta,
// `data: [DONE]`). With stream_options.include_usage every chunk carries `usage: null` and a last
// chunk has `choices: []` plus the usage (API reference, ChatCompletionStreamOptions).
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
import { ev, jsonReply, streamReply } from "./reply.js";
import type { FakeUsage, HandlerContext, Reply, StreamEvent } from "./types.js";

export function chatUsage(u: FakeUsage): Record<string, unknown> {
  const promptDetails: Record<string, number> = { cached_tokens: u.cacheRead, audio_tokens: 0 };
  if (u.cacheWrite > 0) promptDetails.cache_write_tokens = u.cacheWrite;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: promptDetails,
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function firstToolName(tools: unknown): string {
  if (Array.isArray(tools)) {
    for (const t of tools) {
      if (isRecord(t) && isRecord(t.function) && typeof t.function.name === "string") return t.function.name;
    }
  }
  return "get_weather";
}

function toolCallsFor(ctx: HandlerContext): ToolCall[] {
  const hasTools = Array.isArray(ctx.body.tools) && ctx.body.tools.length > 0;
  let count = toolCallCount(ctx.toolCalls, hasTools, lastUserText(ctx.body.messages));
  if (ctx.body.parallel_tool_calls === false) count = Math.min(count, 1);
  return makeToolCalls(firstToolName(ctx.body.tools), count);
}

export function chatCompletion(ctx: HandlerContext): Reply {
  if (ctx.model === "") return noModel();
  if (!Array.isArray(ctx.body.messages)) return missingParam("messages");
  const calls = toolCallsFor(ctx);
  const id = ctx.id("chatcmpl-");
  return ctx.stream ? chatStream(ctx, id, calls) : chatJson(ctx, id, calls);
}

export function noModel(): Reply {
  return jsonReply(400, {
    error: {
      message: "you must provide a model parameter",
      type: "invalid_request_error",
      param: null,
      code: null,
    },
  });
}

export function missingParam(param: string): Reply {
  return jsonReply(400, {
    error: {
      message: `Missing required parameter: '${param}'.`,
      type: "invalid_request_error",
      param,
      code: "missing_required_parameter",
    },
  });
}

function chatJson(ctx: HandlerContext, id: string, calls: ToolCall[]): Reply {
  const message: Record<string, unknown> =
    calls.length > 0
      ? {
          role: "assistant",
          content: null,
          tool_calls: calls.map((c, i) => ({
            id: ctx.id(`call_${i}_`),
            type: "function",
            function: { name: c.name, arguments: c.arguments },
          })),
          refusal: null,
          annotations: [],
        }
      : { role: "assistant", content: answerText(ctx.pieces), refusal: null, annotations: [] };
  return jsonReply(200, {
    id,
    object: "chat.completion",
    created: ctx.now,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: calls.length > 0 ? "tool_calls" : "stop" }],
    usage: chatUsage(ctx.usage),
    service_tier: "default",
    system_fingerprint: "fp_fake",
  });
}

function chatStream(ctx: HandlerContext, id: string, calls: ToolCall[]): Reply {
  const options = ctx.body.stream_options;
  const includeUsage = isRecord(options) && options.include_usage === true;
  const chunk = (choices: unknown[], usage?: unknown): StreamEvent => {
    const c: Record<string, unknown> = {
      id,
      object: "chat.completion.chunk",
      created: ctx.now,
      model: ctx.model,
      service_tier: "default",
      system_fingerprint: "fp_fake",
      choices,
    };
    if (includeUsage) c.usage = usage ?? null;
    return ev(c);
  };
  const choice = (delta: Record<string, unknown>, finish: string | null = null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });

  const events: StreamEvent[] = [];
  if (calls.length === 0) {
    events.push(chunk([choice({ role: "assistant", content: "", refusal: null })]));
    for (const piece of answerPieces(ctx.pieces)) events.push(chunk([choice({ content: piece })]));
    events.push(chunk([choice({}, "stop")]));
  } else {
    events.push(chunk([choice({ role: "assistant", content: null })]));
    calls.forEach((call, index) => {
      const head = {
        index,
        id: ctx.id(`call_${index}_`),
        type: "function",
        function: { name: call.name, arguments: "" },
      };
      events.push(chunk([choice({ tool_calls: [head] })]));
      for (const fragment of splitInto(call.arguments, ctx.pieces)) {
        events.push(chunk([choice({ tool_calls: [{ index, function: { arguments: fragment } }] })]));
      }
    });
    events.push(chunk([choice({}, "tool_calls")]));
  }
  if (includeUsage) events.push(chunk([], chatUsage(ctx.usage)));
  events.push({ data: "[DONE]" });
  return streamReply("sse", events, "text/event-stream; charset=utf-8");
}

/** A chat stream that fails mid-way carries an error object as a data line (openai-node Stream). */
export function chatStreamError(): StreamEvent[] {
  return [
    ev({
      error: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      },
    }),
  ];
}
