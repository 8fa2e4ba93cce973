// OpenAI POST /v1/responses.
// Shapes: openai-node types Response, ResponseUsage and the Response*Event stream events
// (resources/responses/responses.d.ts) and recorded API streams: every event is `event: <type>`
// plus `data:` whose JSON starts with type and sequence_number; order is created, in_progress,
// output_item.added, content_part.added, output_text.delta…, output_text.done, content_part.done,
// output_item.done, completed (the only event carrying usage).
import { answerPieces, answerText } from "./content.js";
import { noModel } from "./openai-chat.js";
import { ev, jsonReply, streamReply } from "./reply.js";
import type { FakeUsage, HandlerContext, Reply, StreamEvent } from "./types.js";

export function responsesUsage(u: FakeUsage): Record<string, unknown> {
  const inputDetails: Record<string, number> = { cached_tokens: u.cacheRead };
  if (u.cacheWrite > 0) inputDetails.cache_write_tokens = u.cacheWrite;
  return {
    input_tokens: u.input,
    input_tokens_details: inputDetails,
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.output,
  };
}

interface Ids {
  response: string;
  message: string;
}

function responseObject(
  ctx: HandlerContext,
  ids: Ids,
  status: "in_progress" | "completed" | "failed",
  output: unknown[],
  usage: unknown,
  error: unknown = null,
): Record<string, unknown> {
  const b = ctx.body;
  return {
    id: ids.response,
    object: "response",
    created_at: ctx.now,
    status,
    background: false,
    error,
    incomplete_details: null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: ctx.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: "default",
    store: true,
    temperature: 1.0,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1.0,
    truncation: "disabled",
    usage,
    user: null,
    metadata: {},
  };
}

function textPart(text: string): Record<string, unknown> {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

function messageItem(id: string, status: "in_progress" | "completed", content: unknown[]): unknown {
  return { id, type: "message", status, content, role: "assistant" };
}

function idsFor(ctx: HandlerContext): Ids {
  return { response: ctx.id("resp_"), message: ctx.id("msg_") };
}

export function createResponse(ctx: HandlerContext): Reply {
  if (ctx.model === "") return noModel();
  const ids = idsFor(ctx);
  if (!ctx.stream) {
    const text = answerText(ctx.pieces);
    const output = [messageItem(ids.message, "completed", [textPart(text)])];
    return jsonReply(200, responseObject(ctx, ids, "completed", output, responsesUsage(ctx.usage)));
  }
  return streamReply("sse", responseEvents(ctx, ids), "text/event-stream; charset=utf-8");
}

function responseEvents(ctx: HandlerContext, ids: Ids): StreamEvent[] {
  const events: StreamEvent[] = [];
  const push = (type: string, fields: Record<string, unknown>): void => {
    events.push(ev({ type, sequence_number: events.length, ...fields }, type));
  };
  const where = { item_id: ids.message, output_index: 0, content_index: 0 };
  const text = answerText(ctx.pieces);
  const done = messageItem(ids.message, "completed", [textPart(text)]);

  push("response.created", { response: responseObject(ctx, ids, "in_progress", [], null) });
  push("response.in_progress", { response: responseObject(ctx, ids, "in_progress", [], null) });
  push("response.output_item.added", { output_index: 0, item: messageItem(ids.message, "in_progress", []) });
  push("response.content_part.added", { ...where, part: textPart("") });
  for (const delta of answerPieces(ctx.pieces))
    push("response.output_text.delta", { ...where, delta, logprobs: [] });
  push("response.output_text.done", { ...where, text, logprobs: [] });
  push("response.content_part.done", { ...where, part: textPart(text) });
  push("response.output_item.done", { output_index: 0, item: done });
  push("response.completed", {
    response: responseObject(ctx, ids, "completed", [done], responsesUsage(ctx.usage)),
  });
  return events;
}

/** A failing Responses stream: an `error` event then `response.failed` (ResponseErrorEvent, ResponseFailedEvent). */
export function responsesStreamError(ctx: HandlerContext, sent: number): StreamEvent[] {
  const message = "The server had an error while processing your request. Sorry about that!";
  const ids = idsFor(ctx);
  return [
    ev({ type: "error", sequence_number: sent, code: "server_error", message, param: null }, "error"),
    ev(
      {
        type: "response.failed",
        sequence_number: sent + 1,
        response: responseObject(ctx, ids, "failed", [], null, { code: "server_error", message }),
      },
      "response.failed",
    ),
  ];
}
