// Anthropic Message bodies <-> hub: non-streamed responses, stop reasons and usage.
// Reference: @anthropic-ai/sdk Message, StopReason and Usage types.
import type { HubResponse, HubStop, HubText, HubToolUse, TokenUsage, ToolIdMinter } from "./hub.js";
import { arr, num, rec, str, type JsonObject } from "./narrow.js";

const STOP_TO_HUB: Record<string, HubStop> = {
  end_turn: "end_turn",
  max_tokens: "max_tokens",
  stop_sequence: "stop_sequence",
  tool_use: "tool_use",
  refusal: "content_filter",
  pause_turn: "end_turn",
  model_context_window_exceeded: "max_tokens",
};

export function anthropicStopToHub(reason: string | undefined): HubStop {
  return (reason !== undefined ? STOP_TO_HUB[reason] : undefined) ?? "end_turn";
}

export function hubStopToAnthropic(stop: HubStop): string {
  return stop === "content_filter" ? "refusal" : stop;
}

/** Only the counts present in `raw` (message_delta omits some); input excludes cache tokens. */
export function anthropicUsageToHub(raw: unknown): Partial<TokenUsage> {
  const usage = rec(raw) ?? {};
  const out: Partial<TokenUsage> = {};
  const input = num(usage.input_tokens);
  if (input !== undefined) out.inputTokens = input;
  const output = num(usage.output_tokens);
  if (output !== undefined) out.outputTokens = output;
  const read = num(usage.cache_read_input_tokens);
  if (read !== undefined) out.cacheReadTokens = read;
  const write = num(usage.cache_creation_input_tokens);
  if (write !== undefined) out.cacheWriteTokens = write;
  return out;
}

export function hubUsageToAnthropic(usage: TokenUsage): JsonObject {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
  };
}

export function decodeAnthropicResponse(body: unknown, mintId: ToolIdMinter): HubResponse {
  const message = rec(body) ?? {};
  const content: (HubText | HubToolUse)[] = [];
  let toolIndex = 0;
  for (const b of arr(message.content) ?? []) {
    const block = rec(b) ?? {};
    if (block.type === "text") content.push({ type: "text", text: str(block.text) ?? "" });
    else if (block.type === "tool_use") {
      const id = str(block.id) ?? mintId(toolIndex);
      content.push({ type: "tool_use", id, name: str(block.name) ?? "", input: block.input ?? {} });
      toolIndex += 1;
    }
    // Thinking blocks are the model's private reasoning; other formats have no place for them.
  }
  const response: HubResponse = {
    content,
    stop: anthropicStopToHub(str(message.stop_reason)),
    usage: {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      ...anthropicUsageToHub(message.usage),
    },
  };
  const stopSequence = str(message.stop_sequence);
  if (stopSequence !== undefined) response.stopSequence = stopSequence;
  return response;
}

export function encodeAnthropicResponse(
  hub: HubResponse,
  ctx: { requestedModel: string; id: string },
): JsonObject {
  return {
    id: ctx.id,
    type: "message",
    role: "assistant",
    model: ctx.requestedModel,
    content: hub.content
      .filter((part) => part.type !== "text" || part.text !== "")
      .map((part) =>
        part.type === "text"
          ? { type: "text", text: part.text }
          : { type: "tool_use", id: part.id, name: part.name, input: part.input },
      ),
    stop_reason: hubStopToAnthropic(hub.stop),
    stop_sequence: hub.stopSequence ?? null,
    usage: hubUsageToAnthropic(hub.usage),
  };
}
