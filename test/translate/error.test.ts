// Upstream error bodies become the client's own error shape, with the upstream's message,
// and the client's official SDK raises the matching error class from them.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { translateError } from "../../server/src/translate/index.js";

describe("translateError", () => {
  it.each([
    [
      "openai",
      429,
      {
        error: {
          message: "Rate limit reached for gpt-4o",
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      },
      "rate_limit_error",
      "Rate limit reached for gpt-4o",
    ],
    [
      "google",
      400,
      { error: { code: 400, message: "Invalid value at 'contents[0]'", status: "INVALID_ARGUMENT" } },
      "invalid_request_error",
      "Invalid value at 'contents[0]'",
    ],
    [
      "google",
      503,
      [{ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }],
      "overloaded_error",
      "The model is overloaded.",
    ],
    [
      "ollama",
      404,
      { error: "model 'llama9' not found, try pulling it first" },
      "not_found_error",
      "model 'llama9' not found, try pulling it first",
    ],
    [
      "openai",
      401,
      { error: { message: "bad key", type: "invalid_request_error", code: "invalid_api_key" } },
      "authentication_error",
      "bad key",
    ],
  ] as const)("%s %i -> Anthropic shape", (from, status, body, type, message) => {
    expect(translateError(from, "anthropic", status, body)).toEqual({
      type: "error",
      error: { type, message },
    });
  });

  it.each([
    [
      "anthropic",
      529,
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      { message: "Overloaded", type: "server_error", code: null, param: null },
    ],
    [
      "anthropic",
      400,
      { type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } },
      { message: "max_tokens: Field required", type: "invalid_request_error", code: null, param: null },
    ],
    [
      "google",
      429,
      { error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } },
      {
        message: "Resource has been exhausted",
        type: "rate_limit_error",
        code: "rate_limit_exceeded",
        param: null,
      },
    ],
    [
      "ollama",
      404,
      { error: "model 'llama9' not found" },
      { message: "model 'llama9' not found", type: "invalid_request_error", code: "not_found", param: null },
    ],
  ] as const)("%s %i -> OpenAI shape", (from, status, body, error) => {
    expect(translateError(from, "openai", status, body)).toEqual({ error });
  });

  it("reads bodies given as text or bytes, and keeps a plain-text body as the message", () => {
    const json = JSON.stringify({ error: "boom" });
    expect(translateError("ollama", "openai", 500, json)).toMatchObject({ error: { message: "boom" } });
    expect(translateError("ollama", "openai", 500, new TextEncoder().encode(json))).toMatchObject({
      error: { message: "boom", type: "server_error" },
    });
    expect(translateError("google", "anthropic", 502, "Bad Gateway")).toEqual({
      type: "error",
      error: { type: "api_error", message: "Bad Gateway" },
    });
    expect(translateError("openai", "anthropic", 504, "")).toEqual({
      type: "error",
      error: { type: "timeout_error", message: "upstream returned HTTP 504" },
    });
  });

  it("never repeats a credential the upstream quoted", () => {
    const body = {
      error: {
        message:
          "Incorrect API key provided: sk-proj-abc1****************************wxyz. You can find your API key at ...",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    };
    const out = JSON.stringify(translateError("openai", "anthropic", 401, body));
    expect(out).not.toContain("sk-proj");
    expect(out).not.toContain("wxyz");
    expect(out).toContain("Incorrect API key provided: [redacted]. You can find your API key");
    const google = JSON.stringify(
      translateError("google", "openai", 400, {
        error: { code: 400, message: "API key not valid: AIzaSyA1234567890abcdefg" },
      }),
    );
    expect(google).not.toContain("AIza");
  });
});

describe("translated errors raise the right error class in the official SDKs", () => {
  const fetchAnswering =
    (status: number, body: unknown): typeof fetch =>
    async () =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("openai SDK", async () => {
    const body = translateError("anthropic", "openai", 429, {
      type: "error",
      error: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" },
    });
    const client = new OpenAI({
      apiKey: "k",
      baseURL: "http://127.0.0.1:9/v1",
      fetch: fetchAnswering(429, body),
      maxRetries: 0,
    });
    const error = await client.chat.completions.create({ model: "m", messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toContain(
      "Number of requests has exceeded",
    );
  });

  it("@anthropic-ai/sdk", async () => {
    const body = translateError("openai", "anthropic", 400, {
      error: {
        message: "Invalid 'messages': empty array.",
        type: "invalid_request_error",
        param: "messages",
        code: null,
      },
    });
    const client = new Anthropic({
      apiKey: "k",
      baseURL: "http://127.0.0.1:9",
      fetch: fetchAnswering(400, body),
      maxRetries: 0,
    });
    const error = await client.messages
      .create({ model: "m", max_tokens: 1, messages: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).message).toContain(
      "Invalid 'messages': empty array.",
    );
  });
});
