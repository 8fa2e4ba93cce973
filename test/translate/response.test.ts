// Non-streamed responses: each upstream's body, in its own format, becomes the client's
// response with the same text, tool calls (ids kept or minted consistently), finish reason and usage.
import { describe, expect, it } from "vitest";
import type { WireFamily } from "../../server/src/providers/types.js";
import {
  createStreamTranslator,
  translateResponse,
  type ClientFamily,
} from "../../server/src/translate/index.js";
import { concat, readWithAnthropic, readWithOpenAI } from "./sdk.js";
import { STREAMS } from "./upstream-streams.js";

type Json = Record<string, unknown>;
const CTX = { requestedModel: "client-model", id: "req-123" };

const BODIES: Record<WireFamily, Json> = {
  openai: {
    id: "chatcmpl-up",
    object: "chat.completion",
    created: 1720000000,
    model: "gpt-4o-2024-08-06",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "Checking both.",
          refusal: null,
          tool_calls: [
            {
              id: "call_up_0",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            },
            { id: "call_up_1", type: "function", function: { name: "get_time", arguments: '{"tz":"CET"}' } },
          ],
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ],
    usage: {
      prompt_tokens: 60,
      completion_tokens: 21,
      total_tokens: 81,
      prompt_tokens_details: { cached_tokens: 10 },
    },
  },
  anthropic: {
    id: "msg_up",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-20250514",
    content: [
      { type: "thinking", thinking: "Two tools needed.", signature: "sig" },
      { type: "text", text: "Checking both." },
      { type: "tool_use", id: "toolu_up_0", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_up_1", name: "get_time", input: { tz: "CET" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: {
      input_tokens: 50,
      output_tokens: 21,
      cache_read_input_tokens: 10,
      cache_creation_input_tokens: 0,
    },
  },
  google: {
    candidates: [
      {
        content: {
          role: "model",
          parts: [
            { text: "Checking both." },
            { functionCall: { name: "get_weather", args: { city: "Paris" } } },
            { functionCall: { name: "get_time", args: { tz: "CET" } } },
          ],
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
  },
  ollama: {
    model: "llama3.2",
    created_at: "2024-07-22T20:33:28.123648Z",
    message: {
      role: "assistant",
      content: "Checking both.",
      tool_calls: [
        { function: { name: "get_weather", arguments: { city: "Paris" } } },
        { function: { name: "get_time", arguments: { tz: "CET" } } },
      ],
    },
    done_reason: "stop",
    done: true,
    total_duration: 885095291,
    load_duration: 3753500,
    prompt_eval_count: 60,
    prompt_eval_duration: 328493000,
    eval_count: 21,
    eval_duration: 552222000,
  },
};

const UPSTREAM_IDS: Partial<Record<WireFamily, string[]>> = {
  openai: ["call_up_0", "call_up_1"],
  anthropic: ["toolu_up_0", "toolu_up_1"],
};
const CACHED: Record<WireFamily, number> = { openai: 10, anthropic: 10, google: 10, ollama: 0 };
const UNCACHED: Record<WireFamily, number> = { openai: 50, anthropic: 50, google: 50, ollama: 60 };

function idsFor(from: WireFamily, to: ClientFamily): string[] {
  const prefix = to === "openai" ? "call_" : "toolu_";
  return UPSTREAM_IDS[from] ?? [`${prefix}req-123_0`, `${prefix}req-123_1`];
}

const UPSTREAMS: WireFamily[] = ["openai", "anthropic", "google", "ollama"];

describe.each(UPSTREAMS.filter((f) => f !== "openai"))("%s response -> OpenAI client", (from) => {
  it("carries text, parallel tool calls, finish reason and usage", () => {
    const out = translateResponse(from, "openai", BODIES[from], CTX);
    const [first, second] = idsFor(from, "openai");
    expect(out).toMatchObject({
      id: "req-123",
      object: "chat.completion",
      model: "client-model",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: "Checking both.",
            tool_calls: [
              {
                id: first,
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Paris"}' },
              },
              { id: second, type: "function", function: { name: "get_time", arguments: '{"tz":"CET"}' } },
            ],
          },
        },
      ],
      usage: {
        prompt_tokens: 60,
        completion_tokens: 21,
        total_tokens: 81,
        prompt_tokens_details: { cached_tokens: CACHED[from] },
      },
    });
  });
});

describe.each(UPSTREAMS.filter((f) => f !== "anthropic"))("%s response -> Anthropic client", (from) => {
  it("carries text, parallel tool calls, stop reason and usage", () => {
    const out = translateResponse(from, "anthropic", BODIES[from], CTX);
    const [first, second] = idsFor(from, "anthropic");
    expect(out).toEqual({
      id: "req-123",
      type: "message",
      role: "assistant",
      model: "client-model",
      content: [
        { type: "text", text: "Checking both." },
        { type: "tool_use", id: first, name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: second, name: "get_time", input: { tz: "CET" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: {
        input_tokens: UNCACHED[from],
        output_tokens: 21,
        cache_read_input_tokens: CACHED[from],
        cache_creation_input_tokens: 0,
      },
    });
  });
});

describe("tool-call ids minted for upstreams that give none", () => {
  it.each([
    ["google", "openai"],
    ["google", "anthropic"],
    ["ollama", "openai"],
    ["ollama", "anthropic"],
  ] as const)("are the same streamed and not streamed (%s -> %s)", async (from, to) => {
    const body = translateResponse(from, to, BODIES[from], CTX) as Json;
    const translator = createStreamTranslator(from, to, { ...CTX, includeUsage: true });
    const bytes = concat([...translator.push(new TextEncoder().encode(STREAMS[from])), ...translator.end()]);
    if (to === "openai") {
      const streamed = (await readWithOpenAI(bytes)).completion.choices[0]?.message.tool_calls?.map(
        (c) => c.id,
      );
      const plain = (
        body.choices as { message: { tool_calls: { id: string }[] } }[]
      )[0]?.message.tool_calls.map((c) => c.id);
      expect(streamed).toEqual(plain);
    } else {
      const streamed = (await readWithAnthropic(bytes)).message.content.flatMap((b) =>
        b.type === "tool_use" ? [b.id] : [],
      );
      const plain = (body.content as { type: string; id?: string }[]).flatMap((b) =>
        b.type === "tool_use" ? [b.id] : [],
      );
      expect(streamed).toEqual(plain);
    }
  });

  it("differ between requests", () => {
    const a = translateResponse("ollama", "anthropic", BODIES.ollama, { ...CTX, id: "req-a" }) as {
      content: Json[];
    };
    const b = translateResponse("ollama", "anthropic", BODIES.ollama, { ...CTX, id: "req-b" }) as {
      content: Json[];
    };
    expect(a.content[1]?.id).not.toBe(b.content[1]?.id);
  });
});

// ---------------------------------------------------------------------------------------------
// finish / stop reasons, each upstream value to each client

const textOnly = (from: WireFamily, reason: string, extra: Json = {}): Json => {
  switch (from) {
    case "openai":
      return {
        choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: reason }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      };
    case "anthropic":
      return {
        type: "message",
        content: [{ type: "text", text: "x" }],
        stop_reason: reason,
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 1 },
        ...extra,
      };
    case "google":
      return {
        candidates: [{ content: { role: "model", parts: [{ text: "x" }] }, finishReason: reason }],
        ...extra,
      };
    case "ollama":
      return { message: { role: "assistant", content: "x" }, done: true, done_reason: reason };
  }
};

const FINISH_TABLE: [WireFamily, string, string, string][] = [
  // upstream, upstream reason, OpenAI finish_reason, Anthropic stop_reason
  ["openai", "stop", "stop", "end_turn"],
  ["openai", "length", "length", "max_tokens"],
  ["openai", "tool_calls", "tool_calls", "tool_use"],
  ["openai", "content_filter", "content_filter", "refusal"],
  ["anthropic", "end_turn", "stop", "end_turn"],
  ["anthropic", "max_tokens", "length", "max_tokens"],
  ["anthropic", "stop_sequence", "stop", "stop_sequence"],
  ["anthropic", "tool_use", "tool_calls", "tool_use"],
  ["anthropic", "refusal", "content_filter", "refusal"],
  ["google", "STOP", "stop", "end_turn"],
  ["google", "MAX_TOKENS", "length", "max_tokens"],
  ["google", "SAFETY", "content_filter", "refusal"],
  ["google", "RECITATION", "content_filter", "refusal"],
  ["google", "PROHIBITED_CONTENT", "content_filter", "refusal"],
  ["ollama", "stop", "stop", "end_turn"],
  ["ollama", "length", "length", "max_tokens"],
];

describe("finish reasons", () => {
  it.each(FINISH_TABLE)(
    "%s %s -> openai %s / anthropic %s",
    (from, reason, openaiReason, anthropicReason) => {
      const body = textOnly(from, reason);
      if (from !== "openai") {
        const oa = translateResponse(from, "openai", body, CTX) as { choices: { finish_reason: string }[] };
        expect(oa.choices[0]?.finish_reason).toBe(openaiReason);
      }
      if (from !== "anthropic") {
        const an = translateResponse(from, "anthropic", body, CTX) as { stop_reason: string };
        expect(an.stop_reason).toBe(anthropicReason);
      }
    },
  );

  it("keeps the stop sequence that ended an Anthropic answer", () => {
    const body = textOnly("anthropic", "stop_sequence", { stop_sequence: "END" });
    expect(translateResponse("anthropic", "openai", body, CTX)).toMatchObject({
      choices: [{ finish_reason: "stop" }],
    });
  });

  it("a Gemini prompt blocked before any answer is a content filter stop", () => {
    const body = { promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 9 } };
    expect(translateResponse("google", "openai", body, CTX)).toMatchObject({
      choices: [{ finish_reason: "content_filter", message: { content: "" } }],
      usage: { prompt_tokens: 9, completion_tokens: 0 },
    });
  });

  it("an OpenAI refusal reaches an Anthropic client as a refusal", () => {
    const body = {
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: "I can't help with that." },
          finish_reason: "stop",
        },
      ],
    };
    expect(translateResponse("openai", "anthropic", body, CTX)).toMatchObject({
      content: [{ type: "text", text: "I can't help with that." }],
      stop_reason: "refusal",
    });
  });
});

describe("same family on both sides", () => {
  it("returns the upstream body unchanged", () => {
    expect(translateResponse("anthropic", "anthropic", BODIES.anthropic, CTX)).toEqual(BODIES.anthropic);
    expect(translateResponse("openai", "openai", JSON.stringify(BODIES.openai), CTX)).toEqual(BODIES.openai);
  });
});
