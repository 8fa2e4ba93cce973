// Streaming translation: realistic upstream streams of every family, split at every byte
// boundary, must yield the same client stream, and that stream must parse with the client's
// official SDK into the right text, tool calls (with incremental arguments) and usage.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { WireFamily } from "../../server/src/providers/types.js";
import { createStreamTranslator, type ClientFamily } from "../../server/src/translate/index.js";
import { concat, drainWithOpenAI, readWithAnthropic, readWithOpenAI } from "./sdk.js";
import { FRAGMENTED_ARGS, STREAMS, STREAM_USAGE, TEXT, UPSTREAM_IDS } from "./upstream-streams.js";

const CTX = { requestedModel: "client-model", id: "req-123", includeUsage: true };
const UPSTREAMS: WireFamily[] = ["openai", "anthropic", "google", "ollama"];
const CLIENTS: ClientFamily[] = ["openai", "anthropic"];
const PAIRS = UPSTREAMS.flatMap((from) =>
  CLIENTS.filter((to) => to !== from).map((to) => [from, to] as const),
);

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function run(from: WireFamily, to: ClientFamily, pieces: Uint8Array[], ctx = CTX) {
  const translator = createStreamTranslator(from, to, ctx);
  const out: Uint8Array[] = [];
  for (const piece of pieces) out.push(...translator.push(piece));
  out.push(...translator.end());
  return { bytes: concat(out), usage: translator.usage() };
}

/** `created` is the translator's clock; everything else must match byte for byte. */
const normalised = (bytes: Uint8Array): string => text(bytes).replace(/"created":\d+/g, '"created":0');

function sseEvents(raw: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(raw);
  return events;
}

/** The upstream split into its own events (SSE blocks or NDJSON lines), separators kept. */
function upstreamEvents(from: WireFamily): string[] {
  const raw = STREAMS[from];
  const separator = from === "ollama" ? "\n" : from === "google" ? "\r\n\r\n" : "\n\n";
  return raw
    .split(separator)
    .filter((part) => part !== "")
    .map((part) => part + separator);
}

function expectedIds(from: WireFamily, to: ClientFamily): string[] {
  const prefix = to === "openai" ? "call_" : "toolu_";
  return UPSTREAM_IDS[from] ?? [`${prefix}req-123_0`, `${prefix}req-123_1`];
}

describe.each(PAIRS)("stream %s upstream -> %s client", (from, to) => {
  const whole = utf8.encode(STREAMS[from]);
  const reference = run(from, to, [whole]);

  it("gives the same client stream however the upstream bytes are split", () => {
    const expected = normalised(reference.bytes);
    for (let i = 1; i < whole.length; i++) {
      const split = run(from, to, [whole.slice(0, i), whole.slice(i)]);
      if (normalised(split.bytes) !== expected) {
        throw new Error(`split at byte ${i} changed the output:\n${normalised(split.bytes)}`);
      }
    }
    const oneByteChunks = Array.from({ length: whole.length }, (_, i) => whole.slice(i, i + 1));
    expect(normalised(run(from, to, oneByteChunks).bytes)).toBe(expected);
  });

  it("reports the upstream's usage", () => {
    expect(reference.usage).toEqual(STREAM_USAGE[from]);
  });

  it("emits each event as soon as its upstream event arrives", () => {
    const translator = createStreamTranslator(from, to, CTX);
    const seen: string[] = [];
    const firstArg = FRAGMENTED_ARGS[from] ? '{\\"ci' : "Paris";
    let textSeenAt = -1;
    let firstArgSeenAt = -1;
    let outputWhenFirstArgSeen = "";
    const events = upstreamEvents(from);
    events.forEach((event, i) => {
      seen.push(...translator.push(utf8.encode(event)).map(text));
      const soFar = seen.join("");
      if (textSeenAt < 0 && soFar.includes("Héllo")) textSeenAt = i;
      if (firstArgSeenAt < 0 && soFar.includes(firstArg)) {
        firstArgSeenAt = i;
        outputWhenFirstArgSeen = soFar;
      }
    });
    expect(textSeenAt).toBe(events.findIndex((e) => e.includes("Héllo")));
    expect(firstArgSeenAt).toBe(events.findIndex((e) => e.includes(firstArg)));
    if (FRAGMENTED_ARGS[from]) {
      // The first fragment went out before the upstream had finished the arguments.
      expect(outputWhenFirstArgSeen).not.toContain("Paris");
    }
  });

  if (to === "openai") {
    it("parses with the openai SDK's ChatCompletionStream", async () => {
      const { completion, argumentDeltas, usage } = await readWithOpenAI(reference.bytes);
      const choice = completion.choices[0];
      expect(choice?.message.content).toBe(TEXT);
      expect(choice?.finish_reason).toBe("tool_calls");
      const calls = choice?.message.tool_calls ?? [];
      expect(
        calls.map((c) =>
          c.type === "function" ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : [],
        ),
      ).toEqual([
        [expectedIds(from, to)[0], "get_weather", { city: "Paris" }],
        [expectedIds(from, to)[1], "get_time", { tz: "CET" }],
      ]);
      // The SDK also reports the empty "arguments" that opens each call.
      const deltasOf = (index: number) =>
        argumentDeltas.filter((d) => d.index === index && d.delta !== "").map((d) => d.delta);
      if (FRAGMENTED_ARGS[from]) {
        expect(deltasOf(0)).toEqual(['{"ci', 'ty": "Paris"}']);
        expect(deltasOf(1)).toEqual(['{"tz": ', '"CET"}']);
      } else {
        expect(deltasOf(0)).toEqual(['{"city":"Paris"}']);
      }
      const u = STREAM_USAGE[from];
      expect(usage).toEqual({
        prompt_tokens: u.inputTokens + u.cacheReadTokens,
        completion_tokens: 21,
        total_tokens: u.inputTokens + u.cacheReadTokens + 21,
        prompt_tokens_details: { cached_tokens: u.cacheReadTokens },
      });
      expect(completion.model).toBe("client-model");
      expect(completion.id).toBe("req-123");
    });

    it("sends the role delta first and [DONE] last", () => {
      const events = sseEvents(text(reference.bytes));
      expect(JSON.parse(events[0]?.data ?? "{}").choices[0].delta).toEqual({
        role: "assistant",
        content: "",
      });
      expect(events.at(-1)?.data).toBe("[DONE]");
      expect(JSON.parse(events.at(-2)?.data ?? "{}")).toMatchObject({
        choices: [],
        usage: { completion_tokens: 21 },
      });
    });

    it("leaves the usage chunk out unless the client asked for it", async () => {
      const { bytes } = run(from, to, [whole], { ...CTX, includeUsage: false });
      expect(text(bytes)).not.toContain('"usage"');
      const { completion } = await readWithOpenAI(bytes);
      expect(completion.choices[0]?.message.content).toBe(TEXT);
      expect(completion.usage).toBeUndefined();
    });
  } else {
    it("parses with the @anthropic-ai/sdk MessageStream", async () => {
      const { message, inputJsonDeltas } = await readWithAnthropic(reference.bytes);
      const ids = expectedIds(from, to);
      expect(message.content).toEqual([
        { type: "text", text: TEXT },
        { type: "tool_use", id: ids[0], name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: ids[1], name: "get_time", input: { tz: "CET" } },
      ]);
      expect(message.stop_reason).toBe("tool_use");
      expect(message.model).toBe("client-model");
      expect(message.id).toBe("req-123");
      const u = STREAM_USAGE[from];
      expect(message.usage).toMatchObject({
        input_tokens: u.inputTokens,
        output_tokens: 21,
        cache_read_input_tokens: u.cacheReadTokens,
        cache_creation_input_tokens: 0,
      });
      expect(inputJsonDeltas).toEqual(
        FRAGMENTED_ARGS[from]
          ? ['{"ci', 'ty": "Paris"}', '{"tz": ', '"CET"}']
          : ['{"city":"Paris"}', '{"tz":"CET"}'],
      );
    });

    it("follows Anthropic's event grammar", () => {
      const events = sseEvents(text(reference.bytes));
      const types = events.map((e) => e.event);
      for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
      expect(types[0]).toBe("message_start");
      expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
      // Blocks open, receive deltas and close one at a time, with consecutive indices.
      let open: number | undefined;
      let next = 0;
      for (const e of events.slice(1, -2)) {
        const data = JSON.parse(e.data);
        if (e.event === "content_block_start") {
          expect(open).toBeUndefined();
          expect(data.index).toBe(next++);
          open = data.index;
        } else if (e.event === "content_block_delta") expect(data.index).toBe(open);
        else if (e.event === "content_block_stop") {
          expect(data.index).toBe(open);
          open = undefined;
        } else throw new Error(`unexpected ${e.event}`);
      }
      expect(open).toBeUndefined();
      expect(next).toBe(3);
      expect(JSON.parse(events.at(-2)?.data ?? "{}").delta).toEqual({
        stop_reason: "tool_use",
        stop_sequence: null,
      });
    });
  }
});

describe("same family on both sides", () => {
  it.each(CLIENTS)("passes %s bytes through untouched and still reads usage", (family) => {
    const bytes = utf8.encode(STREAMS[family]);
    const translator = createStreamTranslator(family, family, CTX);
    const half = Math.floor(bytes.length / 2);
    const out = [
      ...translator.push(bytes.slice(0, half)),
      ...translator.push(bytes.slice(half)),
      ...translator.end(),
    ];
    expect(concat(out)).toEqual(bytes);
    expect(translator.usage()).toEqual(STREAM_USAGE[family]);
  });
});

describe("upstream errors in the middle of a stream", () => {
  const anthropicError =
    STREAMS.anthropic.split("event: content_block_stop")[0] +
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
  const openaiError =
    STREAMS.openai.split("data: ").slice(0, 3).join("data: ") +
    'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n';
  const geminiError =
    STREAMS.google.split("\r\n\r\n")[0] +
    '\r\n\r\ndata: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n';
  const ollamaError = STREAMS.ollama.split("\n")[0] + '\n{"error":"model runner has unexpectedly stopped"}\n';

  it("becomes an OpenAI error data line that the openai SDK raises", async () => {
    const { bytes } = run("anthropic", "openai", [utf8.encode(anthropicError)]);
    const events = sseEvents(text(bytes));
    expect(JSON.parse(events.at(-1)?.data ?? "{}")).toEqual({
      error: { message: "Overloaded", type: "server_error", code: null, param: null },
    });
    expect(text(bytes)).not.toContain("[DONE]");
    await expect(drainWithOpenAI(bytes)).rejects.toThrow(/Overloaded/);
  });

  it.each([
    ["openai", openaiError, "The server had an error while processing your request.", "api_error"],
    ["google", geminiError, "The model is overloaded.", "overloaded_error"],
    ["ollama", ollamaError, "model runner has unexpectedly stopped", "api_error"],
  ] as const)(
    "from %s becomes an Anthropic error event that the SDK raises",
    async (from, raw, message, type) => {
      const { bytes } = run(from, "anthropic", [utf8.encode(raw)]);
      const events = sseEvents(text(bytes));
      expect(events.at(-1)?.event).toBe("error");
      expect(JSON.parse(events.at(-1)?.data ?? "{}")).toEqual({ type: "error", error: { type, message } });
      expect(events.map((e) => e.event)).not.toContain("message_stop");
      await expect(readWithAnthropic(bytes)).rejects.toThrow(message);
    },
  );

  it.each(PAIRS)("a %s stream cut before it finished ends in an error for a %s client", async (from, to) => {
    const full = STREAMS[from];
    const { bytes } = run(from, to, [utf8.encode(full.slice(0, full.indexOf("get_weather")))]);
    const read = to === "openai" ? drainWithOpenAI(bytes) : readWithAnthropic(bytes);
    await expect(read).rejects.toThrow(/ended before the answer was complete/);
  });
});
