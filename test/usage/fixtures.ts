// Real-format streams of each API (shapes from the official SDK types and API docs), with
// multi-byte UTF-8 text so splits land inside characters.

const sse = (events: Array<[string | undefined, unknown]>, sep = "\n"): string =>
  events
    .map(([event, data]) => {
      const payload = typeof data === "string" ? data : JSON.stringify(data);
      return `${event === undefined ? "" : `event: ${event}${sep}`}data: ${payload}${sep}${sep}`;
    })
    .join("");

// ---- OpenAI chat completions, stream_options.include_usage = true ----
const chatChunk = (delta: unknown, finish: string | null = null) => ({
  id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  object: "chat.completion.chunk",
  created: 1741570283,
  model: "gpt-4o-2024-08-06",
  service_tier: "default",
  system_fingerprint: "fp_f9f4fb6dbf",
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  usage: null,
});
export const CHAT_TEXT = ["Héllo ", "wörld 🌍, ", 'a "quoted"\nline'];
export const CHAT_PREFIX = sse([
  [undefined, chatChunk({ role: "assistant", content: "", refusal: null })],
  ...CHAT_TEXT.map((t): [undefined, unknown] => [undefined, chatChunk({ content: t })]),
  [undefined, chatChunk({}, "stop")],
]);
export const CHAT_USAGE_EVENT = sse([
  [
    undefined,
    {
      id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
      object: "chat.completion.chunk",
      created: 1741570283,
      model: "gpt-4o-2024-08-06",
      service_tier: "default",
      system_fingerprint: "fp_f9f4fb6dbf",
      choices: [],
      usage: {
        prompt_tokens: 1200,
        completion_tokens: 12,
        total_tokens: 1212,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
    },
  ],
]);
export const CHAT_STREAM = CHAT_PREFIX + CHAT_USAGE_EVENT + "data: [DONE]\n\n";
export const CHAT_EXPECTED = {
  inputTokens: 176,
  outputTokens: 12,
  cacheReadTokens: 1024,
  cacheWriteTokens: 0,
  servedModel: "gpt-4o-2024-08-06",
  estimated: false,
};

// ---- OpenAI Responses ----
const resp = (status: string, usage: unknown) => ({
  id: "resp_67ccd2bed1ec8190b14f964abc054267",
  object: "response",
  created_at: 1741476542,
  status,
  error: null,
  incomplete_details: null,
  instructions: null,
  model: "gpt-4.1-2025-04-14",
  output: [],
  parallel_tool_calls: true,
  temperature: 1,
  tool_choice: "auto",
  tools: [],
  top_p: 1,
  usage,
});
export const RESPONSES_TEXT = ["Grüße ", "aus ", "Köln ☕"];
const at = { item_id: "msg_67ccd2bf17f0819081ff3bb2cf6508e6", output_index: 0, content_index: 0 };
export const RESPONSES_PREFIX = sse([
  ["response.created", { type: "response.created", sequence_number: 0, response: resp("in_progress", null) }],
  [
    "response.in_progress",
    { type: "response.in_progress", sequence_number: 1, response: resp("in_progress", null) },
  ],
  [
    "response.output_item.added",
    {
      type: "response.output_item.added",
      sequence_number: 2,
      output_index: 0,
      item: { id: at.item_id, type: "message", status: "in_progress", role: "assistant", content: [] },
    },
  ],
  [
    "response.content_part.added",
    {
      type: "response.content_part.added",
      sequence_number: 3,
      ...at,
      part: { type: "output_text", text: "", annotations: [] },
    },
  ],
  ...RESPONSES_TEXT.map((delta, i): [string, unknown] => [
    "response.output_text.delta",
    { type: "response.output_text.delta", sequence_number: 4 + i, ...at, delta, logprobs: [] },
  ]),
  [
    "response.output_text.done",
    {
      type: "response.output_text.done",
      sequence_number: 7,
      ...at,
      text: RESPONSES_TEXT.join(""),
      logprobs: [],
    },
  ],
]);
const RESPONSES_USAGE = {
  input_tokens: 2000,
  input_tokens_details: { cached_tokens: 1500 },
  output_tokens: 40,
  output_tokens_details: { reasoning_tokens: 10 },
  total_tokens: 2040,
};
export const responsesFinal = (type: string, status: string, usage: unknown = RESPONSES_USAGE): string =>
  sse([[type, { type, sequence_number: 8, response: resp(status, usage) }]]);
export const RESPONSES_STREAM = RESPONSES_PREFIX + responsesFinal("response.completed", "completed");
export const RESPONSES_EXPECTED = {
  inputTokens: 500,
  outputTokens: 40,
  cacheReadTokens: 1500,
  cacheWriteTokens: 0,
  servedModel: "gpt-4.1-2025-04-14",
  estimated: false,
};

// ---- Anthropic Messages ----
export const ANTHROPIC_TEXT = ["Ça va ", "très bien", " — merci 🙂"];
export const ANTHROPIC_PREFIX = sse([
  [
    "message_start",
    {
      type: "message_start",
      message: {
        id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
        type: "message",
        role: "assistant",
        content: [],
        model: "claude-sonnet-4-5-20250929",
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 25,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 2000,
          output_tokens: 1,
        },
      },
    },
  ],
  [
    "content_block_start",
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  ],
  ["ping", { type: "ping" }],
  ...ANTHROPIC_TEXT.map((text): [string, unknown] => [
    "content_block_delta",
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
  ]),
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
]);
export const anthropicDelta = (usage: unknown): string =>
  sse([
    [
      "message_delta",
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage },
    ],
    ["message_stop", { type: "message_stop" }],
  ]);
export const ANTHROPIC_STREAM = ANTHROPIC_PREFIX + anthropicDelta({ output_tokens: 15 });
export const ANTHROPIC_EXPECTED = {
  inputTokens: 25,
  outputTokens: 15,
  cacheReadTokens: 2000,
  cacheWriteTokens: 100,
  servedModel: "claude-sonnet-4-5-20250929",
  estimated: false,
};

// ---- Gemini streamGenerateContent?alt=sse (CRLF framing) ----
export const GEMINI_TEXT = ["Hallo ", "Welt ", "🌍!"];
const geminiChunk = (text: string, final: boolean) => ({
  candidates: [
    {
      content: { parts: [{ text }], role: "model" },
      ...(final ? { finishReason: "STOP" } : {}),
      index: 0,
    },
  ],
  usageMetadata: final
    ? {
        promptTokenCount: 1100,
        cachedContentTokenCount: 1000,
        candidatesTokenCount: 20,
        thoughtsTokenCount: 30,
        totalTokenCount: 1150,
      }
    : { promptTokenCount: 1100, totalTokenCount: 1100 },
  modelVersion: "gemini-2.5-flash",
  responseId: "mAitaLmkHPPlz7IPvtfUqQ4",
});
export const GEMINI_PREFIX = sse(
  GEMINI_TEXT.slice(0, -1).map((t): [undefined, unknown] => [undefined, geminiChunk(t, false)]),
  "\r\n",
);
export const GEMINI_STREAM =
  GEMINI_PREFIX + sse([[undefined, geminiChunk(GEMINI_TEXT.at(-1) ?? "", true)]], "\r\n");
export const GEMINI_EXPECTED = {
  inputTokens: 100,
  outputTokens: 50,
  cacheReadTokens: 1000,
  cacheWriteTokens: 0,
  servedModel: "gemini-2.5-flash",
  estimated: false,
};

// ---- Ollama /api/chat NDJSON ----
export const OLLAMA_TEXT = ["Bonjour", " à ", "vous ✨"];
export const OLLAMA_PREFIX = OLLAMA_TEXT.map(
  (content) =>
    JSON.stringify({
      model: "llama3.2",
      created_at: "2023-08-04T08:52:19.385406455-07:00",
      message: { role: "assistant", content },
      done: false,
    }) + "\n",
).join("");
export const OLLAMA_FINAL = JSON.stringify({
  model: "llama3.2",
  created_at: "2023-08-04T19:22:45.499127Z",
  message: { role: "assistant", content: "" },
  done_reason: "stop",
  done: true,
  total_duration: 8113331500,
  load_duration: 6396458,
  prompt_eval_count: 61,
  prompt_eval_duration: 398801000,
  eval_count: 468,
  eval_duration: 7701267000,
});
export const OLLAMA_STREAM = OLLAMA_PREFIX + OLLAMA_FINAL + "\n";
export const OLLAMA_EXPECTED = {
  inputTokens: 61,
  outputTokens: 468,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  servedModel: "llama3.2",
  estimated: false,
};
