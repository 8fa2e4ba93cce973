// Realistic upstream streams in each provider's own wire format (shapes as documented by
// OpenAI, Anthropic, Google and Ollama), each answering with text, then two parallel tool
// calls, then usage. The text has multi-byte characters so byte splits cut through them.
import type { WireFamily } from "../../server/src/providers/types.js";

export const TEXT = "Héllo wörld 🌍!";

const oaChunk = (delta: object, finish: string | null = null, extra: object = {}): string =>
  `data: ${JSON.stringify({
    id: "chatcmpl-up",
    object: "chat.completion.chunk",
    created: 1720000000,
    model: "gpt-4o-2024-08-06",
    system_fingerprint: "fp_1",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
    ...extra,
  })}\n\n`;

export const OPENAI_STREAM =
  oaChunk({ role: "assistant", content: "", refusal: null }) +
  oaChunk({ content: "Héllo" }) +
  oaChunk({ content: " wörld 🌍!" }) +
  oaChunk({
    tool_calls: [
      { index: 0, id: "call_up_0", type: "function", function: { name: "get_weather", arguments: "" } },
    ],
  }) +
  oaChunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }) +
  oaChunk({ tool_calls: [{ index: 0, function: { arguments: 'ty": "Paris"}' } }] }) +
  oaChunk({
    tool_calls: [
      { index: 1, id: "call_up_1", type: "function", function: { name: "get_time", arguments: "" } },
    ],
  }) +
  oaChunk({ tool_calls: [{ index: 1, function: { arguments: '{"tz": ' } }] }) +
  oaChunk({ tool_calls: [{ index: 1, function: { arguments: '"CET"}' } }] }) +
  oaChunk({}, "tool_calls") +
  `data: ${JSON.stringify({
    id: "chatcmpl-up",
    object: "chat.completion.chunk",
    created: 1720000000,
    model: "gpt-4o-2024-08-06",
    choices: [],
    usage: {
      prompt_tokens: 60,
      completion_tokens: 21,
      total_tokens: 81,
      prompt_tokens_details: { cached_tokens: 10 },
    },
  })}\n\n` +
  "data: [DONE]\n\n";

const an = (event: string, data: object): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export const ANTHROPIC_STREAM =
  an("message_start", {
    type: "message_start",
    message: {
      id: "msg_up",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-20250514",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 50,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 10,
        output_tokens: 1,
      },
    },
  }) +
  an("content_block_start", {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "" },
  }) +
  an("ping", { type: "ping" }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: "Héllo" },
  }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: " wörld 🌍!" },
  }) +
  an("content_block_stop", { type: "content_block_stop", index: 0 }) +
  an("content_block_start", {
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_up_0", name: "get_weather", input: {} },
  }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: "" },
  }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: '{"ci' },
  }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: 'ty": "Paris"}' },
  }) +
  an("content_block_stop", { type: "content_block_stop", index: 1 }) +
  an("content_block_start", {
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "toolu_up_1", name: "get_time", input: {} },
  }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: '{"tz": ' },
  }) +
  an("content_block_delta", {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: '"CET"}' },
  }) +
  an("content_block_stop", { type: "content_block_stop", index: 2 }) +
  an("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 21 },
  }) +
  an("message_stop", { type: "message_stop" });

// Gemini's alt=sse stream separates events with CRLF pairs.
const gm = (body: object): string => `data: ${JSON.stringify(body)}\r\n\r\n`;

export const GEMINI_STREAM =
  gm({
    candidates: [{ content: { parts: [{ text: "Héllo" }], role: "model" }, index: 0 }],
    usageMetadata: { promptTokenCount: 60, totalTokenCount: 60 },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-up",
  }) +
  gm({
    candidates: [
      {
        content: { parts: [{ text: "thinking...", thought: true }, { text: " wörld 🌍!" }], role: "model" },
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 60, candidatesTokenCount: 5, totalTokenCount: 65 },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-up",
  }) +
  gm({
    candidates: [
      {
        content: {
          parts: [
            { functionCall: { name: "get_weather", args: { city: "Paris" } } },
            { functionCall: { name: "get_time", args: { tz: "CET" } } },
          ],
          role: "model",
        },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: 60,
      cachedContentTokenCount: 10,
      candidatesTokenCount: 18,
      thoughtsTokenCount: 3,
      totalTokenCount: 81,
    },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-up",
  });

const ol = (body: object): string =>
  `${JSON.stringify({ model: "llama3.2", created_at: "2024-07-22T20:33:28.123648Z", ...body })}\n`;

export const OLLAMA_STREAM =
  ol({ message: { role: "assistant", content: "Héllo" }, done: false }) +
  ol({ message: { role: "assistant", content: " wörld 🌍!" }, done: false }) +
  ol({
    message: {
      role: "assistant",
      content: "",
      tool_calls: [
        { function: { name: "get_weather", arguments: { city: "Paris" } } },
        { function: { name: "get_time", arguments: { tz: "CET" } } },
      ],
    },
    done: false,
  }) +
  ol({
    message: { role: "assistant", content: "" },
    done_reason: "stop",
    done: true,
    total_duration: 4883583458,
    load_duration: 1334875,
    prompt_eval_count: 60,
    prompt_eval_duration: 342546000,
    eval_count: 21,
    eval_duration: 4535599000,
  });

export const STREAMS: Record<WireFamily, string> = {
  openai: OPENAI_STREAM,
  anthropic: ANTHROPIC_STREAM,
  google: GEMINI_STREAM,
  ollama: OLLAMA_STREAM,
};

/** The usage each stream reports, in the hub's terms (input excludes cached tokens). */
export const STREAM_USAGE: Record<
  WireFamily,
  { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }
> = {
  openai: { inputTokens: 50, outputTokens: 21, cacheReadTokens: 10, cacheWriteTokens: 0 },
  anthropic: { inputTokens: 50, outputTokens: 21, cacheReadTokens: 10, cacheWriteTokens: 0 },
  google: { inputTokens: 50, outputTokens: 21, cacheReadTokens: 10, cacheWriteTokens: 0 },
  ollama: { inputTokens: 60, outputTokens: 21, cacheReadTokens: 0, cacheWriteTokens: 0 },
};

/** Whether the upstream streams tool arguments in fragments (Gemini and Ollama send them whole). */
export const FRAGMENTED_ARGS: Record<WireFamily, boolean> = {
  openai: true,
  anthropic: true,
  google: false,
  ollama: false,
};

/** Whether the upstream gives tool-call ids itself. */
export const UPSTREAM_IDS: Record<WireFamily, string[] | undefined> = {
  openai: ["call_up_0", "call_up_1"],
  anthropic: ["toolu_up_0", "toolu_up_1"],
  google: undefined,
  ollama: undefined,
};
