// OpenAI chat completion bodies <-> hub: non-streamed responses, finish reasons and usage.
// Reference: the `openai` package's ChatCompletion and CompletionUsage types.
import { textOf } from "./hub-util.js";
import type { HubResponse, HubStop, HubText, HubToolUse, TokenUsage, ToolIdMinter } from "./hub.js";
import { arr, num, rec, str, tryParseJson, type JsonObject } from "./narrow.js";

const FINISH_TO_HUB: Record<string, HubStop> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "content_filter",
};

export function openAIFinishToHub(reason: string | undefined): HubStop {
  return (reason !== undefined ? FINISH_TO_HUB[reason] : undefined) ?? "end_turn";
}

export function hubStopToOpenAI(stop: HubStop): string {
  switch (stop) {
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "stop";
  }
}

/** prompt_tokens includes cached tokens; the hub counts uncached input separately. */
export function openAIUsageToHub(raw: unknown): TokenUsage {
  const usage = rec(raw) ?? {};
  const details = rec(usage.prompt_tokens_details) ?? {};
  const cached = num(details.cached_tokens) ?? 0;
  const written = num(details.cache_write_tokens) ?? 0;
  return {
    inputTokens: Math.max(0, (num(usage.prompt_tokens) ?? 0) - cached - written),
    outputTokens: num(usage.completion_tokens) ?? 0,
    cacheReadTokens: cached,
    cacheWriteTokens: written,
  };
}

export function hubUsageToOpenAI(usage: TokenUsage): JsonObject {
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
  };
}

export function decodeOpenAIResponse(body: unknown, mintId: ToolIdMinter): HubResponse {
  const choice = rec(arr(rec(body)?.choices)?.[0]) ?? {};
  const message = rec(choice.message) ?? {};
  const content: (HubText | HubToolUse)[] = [];
  const text = str(message.content);
  if (text) content.push({ type: "text", text });
  const refusal = str(message.refusal);
  if (refusal) content.push({ type: "text", text: refusal });
  (arr(message.tool_calls) ?? []).forEach((raw, index) => {
    const call = rec(raw) ?? {};
    const fn = rec(call.function) ?? {};
    const args = str(fn.arguments) ?? "";
    content.push({
      type: "tool_use",
      id: str(call.id) ?? mintId(index),
      name: str(fn.name) ?? "",
      input: args.trim() === "" ? {} : (tryParseJson(args) ?? args),
    });
  });
  const stop = refusal ? "content_filter" : openAIFinishToHub(str(choice.finish_reason));
  return { content, stop, usage: openAIUsageToHub(rec(body)?.usage) };
}

export function encodeOpenAIResponse(
  hub: HubResponse,
  ctx: { requestedModel: string; id: string },
): JsonObject {
  const text = textOf(hub.content);
  const calls = hub.content.filter((p): p is HubToolUse => p.type === "tool_use");
  const message: JsonObject = {
    role: "assistant",
    content: text === "" && calls.length > 0 ? null : text,
    refusal: null,
  };
  if (calls.length > 0) {
    message.tool_calls = calls.map((call) => ({
      id: call.id,
      type: "function",
      function: {
        name: call.name,
        arguments: typeof call.input === "string" ? call.input : JSON.stringify(call.input),
      },
    }));
  }
  return {
    id: ctx.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: ctx.requestedModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: hubStopToOpenAI(hub.stop) }],
    usage: hubUsageToOpenAI(hub.usage),
  };
}
