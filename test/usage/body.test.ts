import { describe, expect, it } from "vitest";
import type { Api } from "../../server/src/providers/types.js";
import { usageFromBody, usageFromJson } from "../../server/src/usage/taps/index.js";
import { bytes } from "./feed.js";

const body = (value: unknown): Uint8Array => bytes(JSON.stringify(value));
const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheWriteTokens,
  estimated: false,
});

describe("usage from complete bodies", () => {
  it("openai chat: cached tokens are split out of prompt_tokens", () => {
    const completion = {
      id: "chatcmpl-abc",
      object: "chat.completion",
      created: 1741569952,
      model: "gpt-4.1-2025-04-14",
      choices: [
        { index: 0, message: { role: "assistant", content: "Hi" }, logprobs: null, finish_reason: "stop" },
      ],
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    };
    expect(usageFromBody("openai.chat", body(completion))).toEqual({
      ...usage(86, 300, 1920),
      servedModel: "gpt-4.1-2025-04-14",
    });
  });

  it("openai responses: input_tokens_details.cached_tokens", () => {
    const response = {
      id: "resp_1",
      object: "response",
      model: "gpt-5-2025-08-07",
      status: "completed",
      output: [],
      usage: {
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 6 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 64 },
        total_tokens: 123,
      },
    };
    expect(usageFromBody("openai.responses", body(response))).toEqual({
      ...usage(30, 87, 6),
      servedModel: "gpt-5-2025-08-07",
    });
  });

  it("openai embeddings: prompt tokens only", () => {
    const list = {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    };
    expect(usageFromBody("openai.embeddings", body(list))).toEqual({
      ...usage(8, 0),
      servedModel: "text-embedding-3-small",
    });
  });

  it("anthropic: input_tokens already excludes cache reads and writes", () => {
    const message = {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-3-5-haiku-20241022",
      content: [{ type: "text", text: "Hello" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 300,
        cache_read_input_tokens: 4000,
        output_tokens: 6,
      },
    };
    expect(usageFromBody("anthropic.messages", body(message))).toEqual({
      ...usage(12, 6, 4000, 300),
      servedModel: "claude-3-5-haiku-20241022",
    });
  });

  it("anthropic: null cache fields count as 0; count_tokens is free", () => {
    const message = {
      model: "claude-3-opus-20240229",
      usage: {
        input_tokens: 5,
        output_tokens: 2,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
      },
    };
    expect(usageFromBody("anthropic.messages", body(message))).toEqual({
      ...usage(5, 2),
      servedModel: "claude-3-opus-20240229",
    });
    expect(usageFromBody("anthropic.count_tokens", body({ input_tokens: 1234 }))).toEqual(usage(0, 0));
  });

  it("gemini: cached content, tool-use prompt and thinking tokens", () => {
    const response = {
      candidates: [{ content: { parts: [{ text: "Hi" }], role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: 5000,
        cachedContentTokenCount: 4096,
        toolUsePromptTokenCount: 10,
        candidatesTokenCount: 40,
        thoughtsTokenCount: 200,
        totalTokenCount: 5250,
      },
      modelVersion: "gemini-2.5-pro",
      responseId: "abc",
    };
    expect(usageFromBody("google.generate", body(response))).toEqual({
      ...usage(914, 240, 4096),
      servedModel: "gemini-2.5-pro",
    });
  });

  it("ollama chat and generate", () => {
    const final = {
      model: "llama3.2",
      created_at: "2023-08-04T19:22:45.499127Z",
      response: "The sky is blue because it is the color of the sky.",
      done: true,
      total_duration: 5043500667,
      prompt_eval_count: 26,
      eval_count: 290,
    };
    for (const api of ["ollama.generate", "ollama.chat"] as const) {
      expect(usageFromBody(api, body(final))).toEqual({ ...usage(26, 290), servedModel: "llama3.2" });
    }
  });

  it.each<Api>(["openai.chat", "openai.responses", "anthropic.messages", "google.generate", "ollama.chat"])(
    "%s: no usage, non-JSON or non-object bodies give undefined",
    (api) => {
      expect(usageFromBody(api, body({ id: "x" }))).toBeUndefined();
      expect(usageFromBody(api, bytes("<html>502 Bad Gateway</html>"))).toBeUndefined();
      expect(usageFromJson(api, [1, 2])).toBeUndefined();
      expect(usageFromJson(api, null)).toBeUndefined();
    },
  );

  it("ignores nonsense counts instead of recording them", () => {
    const weird = {
      model: "m",
      usage: { prompt_tokens: -5, completion_tokens: "7", prompt_tokens_details: null },
    };
    expect(usageFromJson("openai.chat", weird)).toEqual({ ...usage(0, 0), servedModel: "m" });
  });
});
