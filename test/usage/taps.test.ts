import { describe, expect, it } from "vitest";
import type { Api, StreamTap } from "../../server/src/providers/types.js";
import { createUsageTap } from "../../server/src/usage/taps/index.js";
import { bytes, feed, splitResults } from "./feed.js";
import * as f from "./fixtures.js";

const chars = (parts: string[]): number => parts.join("").length;

describe.each<{ api: Api; stream: string; expected: object }>([
  { api: "openai.chat", stream: f.CHAT_STREAM, expected: f.CHAT_EXPECTED },
  { api: "openai.responses", stream: f.RESPONSES_STREAM, expected: f.RESPONSES_EXPECTED },
  { api: "anthropic.messages", stream: f.ANTHROPIC_STREAM, expected: f.ANTHROPIC_EXPECTED },
  { api: "google.generate", stream: f.GEMINI_STREAM, expected: f.GEMINI_EXPECTED },
  { api: "ollama.chat", stream: f.OLLAMA_STREAM, expected: f.OLLAMA_EXPECTED },
])("$api stream tap", ({ api, stream, expected }) => {
  const data = bytes(stream);

  it("reads the usage whether the stream arrives whole, split anywhere, or byte by byte", () => {
    const { whole, splits, byteByByte } = splitResults(data, () => createUsageTap(api));
    expect(whole).toEqual(expected);
    expect(byteByByte).toEqual(expected);
    expect(splits).toHaveLength(data.length - 1);
    for (const [i, usage] of splits.entries()) expect(usage, `split at byte ${i + 1}`).toEqual(expected);
  });

  it("reports no stream error on a clean stream", () => {
    expect(feed(createUsageTap(api), data).streamError()).toBeUndefined();
  });
});

describe("malformed input is ignored", () => {
  const garbageSse =
    ": keep-alive comment\n\n" +
    "data: not json at all\n\n" +
    'data: {"id":"x","usage":{"prompt_tokens":\n\n' +
    "bogus-field: whatever\n\n" +
    "data: \n\n" +
    "\n\n";

  it.each<[Api, string, string, object]>([
    ["openai.chat", f.CHAT_PREFIX, f.CHAT_STREAM.slice(f.CHAT_PREFIX.length), f.CHAT_EXPECTED],
    [
      "openai.responses",
      f.RESPONSES_PREFIX,
      f.RESPONSES_STREAM.slice(f.RESPONSES_PREFIX.length),
      f.RESPONSES_EXPECTED,
    ],
    [
      "anthropic.messages",
      f.ANTHROPIC_PREFIX,
      f.ANTHROPIC_STREAM.slice(f.ANTHROPIC_PREFIX.length),
      f.ANTHROPIC_EXPECTED,
    ],
    ["google.generate", f.GEMINI_PREFIX, f.GEMINI_STREAM.slice(f.GEMINI_PREFIX.length), f.GEMINI_EXPECTED],
  ])("%s: garbage events between real ones change nothing", (api, head, tail, expected) => {
    const tap = createUsageTap(api);
    expect(() => feed(tap, bytes(garbageSse), bytes(head), bytes(garbageSse), bytes(tail))).not.toThrow();
    expect(tap.result()).toEqual(expected);
  });

  it("ollama: garbage lines change nothing", () => {
    const tap = createUsageTap("ollama.chat");
    const garbage = 'not json\n{"model": "llama3.2", "broken\n\n[1,2,3]\n';
    feed(tap, bytes(garbage), bytes(f.OLLAMA_PREFIX), bytes(garbage), bytes(f.OLLAMA_FINAL + "\n"));
    expect(tap.result()).toEqual(f.OLLAMA_EXPECTED);
  });

  it("ollama: a final line without its newline still counts", () => {
    const tap = feed(createUsageTap("ollama.chat"), bytes(f.OLLAMA_PREFIX + f.OLLAMA_FINAL));
    expect(tap.result()).toEqual(f.OLLAMA_EXPECTED);
  });

  it("invalid UTF-8 bytes never throw", () => {
    const apis: Api[] = [
      "openai.chat",
      "openai.responses",
      "anthropic.messages",
      "google.generate",
      "ollama.chat",
    ];
    for (const api of apis) {
      const tap = createUsageTap(api);
      expect(() => tap.push(new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x0a, 0xe2, 0x82]))).not.toThrow();
      expect(tap.result().estimated).toBe(true);
    }
  });
});

describe("streams cut before their usage event", () => {
  const cut = (api: Api, prefix: string, opts?: { estimatedInputTokens?: number }): StreamTap =>
    feed(createUsageTap(api, opts), bytes(prefix));

  it("openai.chat estimates output from the text and takes input from the request", () => {
    expect(cut("openai.chat", f.CHAT_PREFIX, { estimatedInputTokens: 321 }).result()).toEqual({
      inputTokens: 321,
      outputTokens: Math.ceil(chars(f.CHAT_TEXT) / 4),
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      servedModel: "gpt-4o-2024-08-06",
      estimated: true,
    });
  });

  it("openai.chat without an input estimate reports input 0", () => {
    expect(cut("openai.chat", f.CHAT_PREFIX).result().inputTokens).toBe(0);
  });

  it("openai.responses estimates output from the deltas", () => {
    expect(cut("openai.responses", f.RESPONSES_PREFIX, { estimatedInputTokens: 50 }).result()).toEqual({
      inputTokens: 50,
      outputTokens: Math.ceil(chars(f.RESPONSES_TEXT) / 4),
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      servedModel: "gpt-4.1-2025-04-14",
      estimated: true,
    });
  });

  it("anthropic keeps the input and cache counts of message_start", () => {
    expect(cut("anthropic.messages", f.ANTHROPIC_PREFIX, { estimatedInputTokens: 9999 }).result()).toEqual({
      inputTokens: 25,
      outputTokens: Math.ceil(chars(f.ANTHROPIC_TEXT) / 4),
      cacheReadTokens: 2000,
      cacheWriteTokens: 100,
      servedModel: "claude-sonnet-4-5-20250929",
      estimated: true,
    });
  });

  it("gemini uses the last metadata seen, with output estimated", () => {
    expect(cut("google.generate", f.GEMINI_PREFIX).result()).toEqual({
      inputTokens: 1100,
      outputTokens: Math.ceil(chars(f.GEMINI_TEXT.slice(0, -1)) / 4),
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      servedModel: "gemini-2.5-flash",
      estimated: true,
    });
  });

  it("ollama estimates output from the streamed content", () => {
    expect(cut("ollama.chat", f.OLLAMA_PREFIX, { estimatedInputTokens: 7 }).result()).toEqual({
      inputTokens: 7,
      outputTokens: Math.ceil(chars(f.OLLAMA_TEXT) / 4),
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      servedModel: "llama3.2",
      estimated: true,
    });
  });

  it.each<[Api, string]>([
    ["openai.chat", f.CHAT_PREFIX],
    ["openai.responses", f.RESPONSES_PREFIX],
    ["anthropic.messages", f.ANTHROPIC_PREFIX],
    ["google.generate", f.GEMINI_PREFIX],
    ["ollama.chat", f.OLLAMA_PREFIX],
  ])("%s: the estimate is the same when multi-byte characters are split across chunks", (api, prefix) => {
    const { whole, splits, byteByByte } = splitResults(bytes(prefix), () => createUsageTap(api));
    expect(whole.estimated).toBe(true);
    expect(byteByByte).toEqual(whole);
    for (const [i, usage] of splits.entries()) expect(usage, `split at byte ${i + 1}`).toEqual(whole);
  });

  it("a cut in the middle of the usage event itself is still an estimate", () => {
    const half = f.CHAT_PREFIX + f.CHAT_USAGE_EVENT.slice(0, 200);
    expect(cut("openai.chat", half).result().estimated).toBe(true);
  });
});

describe("usage variants", () => {
  it("anthropic: cumulative counts in message_delta replace message_start's", () => {
    const stream =
      f.ANTHROPIC_PREFIX +
      f.anthropicDelta({ output_tokens: 7 }) +
      f.anthropicDelta({
        input_tokens: 30,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: 2100,
        output_tokens: 15,
      });
    expect(feed(createUsageTap("anthropic.messages"), bytes(stream)).result()).toEqual({
      ...f.ANTHROPIC_EXPECTED,
      inputTokens: 30,
      cacheReadTokens: 2100,
    });
  });

  it("gemini: a blocked prompt (no candidates) is a complete answer", () => {
    const blocked = {
      promptFeedback: { blockReason: "SAFETY", safetyRatings: [] },
      usageMetadata: { promptTokenCount: 42, totalTokenCount: 42 },
      modelVersion: "gemini-2.0-flash",
    };
    const tap = feed(createUsageTap("google.generate"), bytes(`data: ${JSON.stringify(blocked)}\r\n\r\n`));
    expect(tap.result()).toEqual({
      inputTokens: 42,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      servedModel: "gemini-2.0-flash",
      estimated: false,
    });
  });

  it("openai chat: an empty model on a first (filter) chunk does not hide the real one", () => {
    const filter =
      'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[]}\n\n';
    const tap = feed(createUsageTap("openai.chat"), bytes(filter + f.CHAT_PREFIX));
    expect(tap.result().servedModel).toBe("gpt-4o-2024-08-06");
  });

  it("responses: response.incomplete carries usage too", () => {
    const stream = f.RESPONSES_PREFIX + f.responsesFinal("response.incomplete", "incomplete");
    expect(feed(createUsageTap("openai.responses"), bytes(stream)).result()).toEqual(f.RESPONSES_EXPECTED);
  });

  it("openai chat: cache writes reported by compatible servers are split out of the input", () => {
    const stream =
      f.CHAT_PREFIX.replaceAll('"usage":null', '"usage": null') +
      `data: ${JSON.stringify({
        id: "gen-1",
        model: "anthropic/claude-sonnet-4.5",
        choices: [],
        usage: {
          prompt_tokens: 1000,
          completion_tokens: 5,
          total_tokens: 1005,
          prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 300 },
        },
      })}\n\ndata: [DONE]\n\n`;
    expect(feed(createUsageTap("openai.chat"), bytes(stream)).result()).toEqual({
      inputTokens: 100,
      outputTokens: 5,
      cacheReadTokens: 600,
      cacheWriteTokens: 300,
      servedModel: "anthropic/claude-sonnet-4.5",
      estimated: false,
    });
  });
});

describe("stream errors", () => {
  it("anthropic: event: error", () => {
    const stream =
      f.ANTHROPIC_PREFIX +
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const tap = feed(createUsageTap("anthropic.messages"), bytes(stream));
    expect(tap.streamError()).toBe("overloaded_error: Overloaded");
    expect(tap.result().estimated).toBe(true);
  });

  it("openai chat: an error object in the stream", () => {
    const stream =
      f.CHAT_PREFIX + 'data: {"error":{"message":"The server had an error","type":"server_error"}}\n\n';
    expect(feed(createUsageTap("openai.chat"), bytes(stream)).streamError()).toBe(
      "server_error: The server had an error",
    );
  });

  it("responses: error event and response.failed", () => {
    const errored =
      f.RESPONSES_PREFIX +
      'event: error\ndata: {"type":"error","code":"rate_limit_exceeded","message":"Slow down","param":null,"sequence_number":9}\n\n';
    expect(feed(createUsageTap("openai.responses"), bytes(errored)).streamError()).toBe(
      "rate_limit_exceeded: Slow down",
    );
    const failed =
      f.RESPONSES_PREFIX +
      f
        .responsesFinal("response.failed", "failed", null)
        .replace('"error":null', '"error":{"code":"server_error","message":"boom"}');
    const tap = feed(createUsageTap("openai.responses"), bytes(failed));
    expect(tap.streamError()).toBe("server_error: boom");
    expect(tap.result().estimated).toBe(true);
  });

  it("gemini: an error object in the stream", () => {
    const stream =
      f.GEMINI_PREFIX +
      'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n';
    expect(feed(createUsageTap("google.generate"), bytes(stream)).streamError()).toBe(
      "UNAVAILABLE: The model is overloaded.",
    );
  });

  it("ollama: an error line", () => {
    const tap = feed(
      createUsageTap("ollama.chat"),
      bytes(f.OLLAMA_PREFIX + '{"error":"model runner crashed"}\n'),
    );
    expect(tap.streamError()).toBe("model runner crashed");
  });
});

describe("APIs that never stream", () => {
  it("count_tokens is free; embeddings report the caller's estimate", () => {
    expect(createUsageTap("anthropic.count_tokens").result()).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      estimated: false,
    });
    expect(createUsageTap("openai.embeddings", { estimatedInputTokens: 12 }).result()).toMatchObject({
      inputTokens: 12,
      estimated: true,
    });
  });
});
