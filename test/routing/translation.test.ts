// Cross-format translation through keygate with the official SDKs: an OpenAI-SDK agent served by
// an Anthropic (and Gemini, Ollama) provider, an Anthropic-SDK agent served by an OpenAI provider.
// What the agent sees is a normal answer of its own format (text, tool calls, finish reasons,
// usage); what the upstream received is a correct request of its own format; and the usage record
// carries exactly the upstream's token counts.
import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES, isRecord, textOf } from "../fakes/content.js";
import {
  startFakeUpstream,
  type FakeRoute,
  type FakeUpstream,
  type ReceivedRequest,
} from "../fakes/server.js";
import {
  anthropicClient,
  issueKey,
  MODELS,
  openaiClient,
  provider,
  requestIdOf,
  startRoutingGateway,
  waitForRecord,
  type IssuedKey,
  type RoutingGateway,
} from "./harness.js";

const ANSWER = answerText(DEFAULT_PIECES);
const SYSTEM = "You are a terse assistant.";

let fake: FakeUpstream;
let gw: RoutingGateway;
let key: IssuedKey;

beforeAll(async () => {
  fake = await startFakeUpstream();
  // Each model is listed by one provider only, so the model alone decides the wire family.
  gw = await startRoutingGateway({
    providers: {
      anthropic: provider("anthropic", fake.url, [MODELS.anthropic]),
      openai: provider("openai", fake.url, [MODELS.openai]),
      google: provider("google", fake.url, [MODELS.gemini]),
      ollama: provider("ollama", fake.url, [MODELS.ollama]),
    },
  });
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.dispose();
  await fake?.close();
});
beforeEach(() => fake.reset({ settings: true }));

function only(route: FakeRoute): ReceivedRequest {
  const got = fake.requests.filter((r) => r.route === route);
  expect(got.map((r) => r.route)).toEqual([route]);
  expect(fake.requests).toHaveLength(1);
  return got[0]!;
}

function body(r: ReceivedRequest): Record<string, unknown> {
  if (!isRecord(r.body)) throw new Error(`upstream body is not an object: ${r.raw}`);
  return r.body;
}

/** Text of an Anthropic `system` (a string or text blocks). */
function systemText(system: unknown): string {
  return typeof system === "string" ? system : textOf(system);
}

async function expectRecordedUsage(
  requestId: string,
  want: {
    provider: string;
    api: string;
    served: string;
    input: number;
    output: number;
    stream: boolean;
    cacheRead?: number;
    cacheWrite?: number;
  },
): Promise<void> {
  const rec = await waitForRecord(gw.admin, requestId);
  expect(rec.statusCode).toBe(200);
  expect(rec.errorClass).toBe("");
  expect(rec.providerId).toBe(want.provider);
  expect(rec.api).toBe(want.api);
  expect(rec.servedModel).toBe(want.served);
  expect(rec.stream).toBe(want.stream);
  expect(Number(rec.inputTokens)).toBe(want.input);
  expect(Number(rec.outputTokens)).toBe(want.output);
  expect(Number(rec.cacheReadTokens)).toBe(want.cacheRead ?? 0);
  expect(Number(rec.cacheWriteTokens)).toBe(want.cacheWrite ?? 0);
}

const WEATHER_TOOL_OPENAI: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] },
  },
};

const WEATHER_TOOL_ANTHROPIC: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object", properties: { location: { type: "string" } }, required: ["location"] },
};

describe("openai SDK → keygate → Anthropic provider", () => {
  const client = (): OpenAI => openaiClient(gw, key);

  it("non-streaming: system prompt carried over, answer, finish reason and usage", async () => {
    fake.setUsage("anthropic", { input: 21, output: 8 });
    const { data, response } = await client()
      .chat.completions.create({
        model: MODELS.anthropic,
        max_tokens: 300,
        messages: [
          { role: "system", content: SYSTEM },
          { role: "user", content: "Say hello" },
        ],
      })
      .withResponse();

    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe(MODELS.anthropic);
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]!.message.role).toBe("assistant");
    expect(data.choices[0]!.message.content).toBe(ANSWER);
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 });

    const up = body(only("anthropic.messages"));
    expect(up.model).toBe(MODELS.anthropic);
    expect(up.max_tokens).toBe(300);
    expect(systemText(up.system)).toBe(SYSTEM);
    const msgs = up.messages as { role: string; content: unknown }[];
    expect(msgs.map((m) => m.role)).toEqual(["user"]);
    expect(textOf(msgs[0]!.content) || msgs[0]!.content).toBe("Say hello");
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "anthropic",
      api: "openai.chat",
      served: MODELS.anthropic,
      input: 21,
      output: 8,
      stream: false,
    });
  });

  it("non-streaming tool call: name, JSON arguments and finish_reason tool_calls", async () => {
    const { data } = await client()
      .chat.completions.create({
        model: MODELS.anthropic,
        messages: [{ role: "user", content: "What is the weather in Paris?" }],
        tools: [WEATHER_TOOL_OPENAI],
      })
      .withResponse();
    const msg = data.choices[0]!.message;
    expect(data.choices[0]!.finish_reason).toBe("tool_calls");
    expect(msg.tool_calls).toHaveLength(1);
    const call = msg.tool_calls![0]!;
    if (call.type !== "function") throw new Error(`unexpected tool call type ${call.type}`);
    expect(call.id).toMatch(/\S/);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ location: "Paris" });

    const up = body(only("anthropic.messages"));
    expect(up.tools).toEqual([
      expect.objectContaining({
        name: "get_weather",
        description: "Current weather for a city",
        input_schema: WEATHER_TOOL_OPENAI.function.parameters,
      }),
    ]);
  });

  it("non-streaming parallel tool calls: every call, in order, with distinct ids", async () => {
    fake.toolCalls(2);
    const data = await client().chat.completions.create({
      model: MODELS.anthropic,
      messages: [{ role: "user", content: "Weather in Paris and Tokyo?" }],
      tools: [WEATHER_TOOL_OPENAI],
    });
    const calls = (data.choices[0]!.message.tool_calls ?? []).map((c) => {
      if (c.type !== "function") throw new Error(`unexpected tool call type ${c.type}`);
      return { id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) as unknown };
    });
    expect(calls.map(({ name, args }) => ({ name, args }))).toEqual([
      { name: "get_weather", args: { location: "Paris" } },
      { name: "get_weather", args: { location: "Tokyo" } },
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(data.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("multi-turn with tool results: tool_use and tool_result blocks reach Anthropic", async () => {
    const data = await client().chat.completions.create({
      model: MODELS.anthropic,
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "What is the weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_abc",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"Paris"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_abc", content: "18°C and sunny" },
      ],
      tools: [WEATHER_TOOL_OPENAI],
    });
    expect(data.choices[0]!.message.content).toBe(ANSWER);
    expect(data.choices[0]!.finish_reason).toBe("stop");

    const up = body(only("anthropic.messages"));
    expect(systemText(up.system)).toBe(SYSTEM);
    const msgs = up.messages as { role: string; content: unknown }[];
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(msgs[1]!.content).toEqual([
      expect.objectContaining({
        type: "tool_use",
        id: "call_abc",
        name: "get_weather",
        input: { location: "Paris" },
      }),
    ]);
    const results = msgs[2]!.content as Record<string, unknown>[];
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ type: "tool_result", tool_use_id: "call_abc" });
    const content = results[0]!.content;
    expect(typeof content === "string" ? content : textOf(content)).toBe("18°C and sunny");
  });

  it("streaming text with include_usage: content, finish reason and a final usage chunk", async () => {
    fake.setUsage("anthropic", { input: 33, output: 12 });
    const { data: stream, response } = await client()
      .chat.completions.create({
        model: MODELS.anthropic,
        messages: [
          { role: "system", content: SYSTEM },
          { role: "user", content: "Say hello" },
        ],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(ANSWER);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 33, completion_tokens: 12, total_tokens: 45 });
    const up = body(only("anthropic.messages"));
    expect(up.stream).toBe(true);
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "anthropic",
      api: "openai.chat",
      served: MODELS.anthropic,
      input: 33,
      output: 12,
      stream: true,
    });
  });

  it("streaming parallel tool calls: the SDK's accumulated completion has both calls", async () => {
    fake.toolCalls(2);
    fake.setUsage("anthropic", { input: 40, output: 25 });
    const runner = client().chat.completions.stream({
      model: MODELS.anthropic,
      messages: [{ role: "user", content: "Weather in Paris and Tokyo?" }],
      tools: [WEATHER_TOOL_OPENAI],
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    const calls = (final.choices[0]!.message.tool_calls ?? []).map((c) => {
      if (c.type !== "function") throw new Error(`unexpected tool call type ${c.type}`);
      return { name: c.function.name, args: JSON.parse(c.function.arguments) as unknown };
    });
    expect(calls).toEqual([
      { name: "get_weather", args: { location: "Paris" } },
      { name: "get_weather", args: { location: "Tokyo" } },
    ]);
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 25 });
  });

  it("streaming without include_usage: no usage chunk for the client, usage still recorded", async () => {
    fake.setUsage("anthropic", { input: 14, output: 6 });
    const { data: stream, response } = await client()
      .chat.completions.create({
        model: MODELS.anthropic,
        messages: [{ role: "user", content: "Say hello" }],
        stream: true,
      })
      .withResponse();
    let text = "";
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe(ANSWER);
    expect(sawUsage).toBe(false);
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "anthropic",
      api: "openai.chat",
      served: MODELS.anthropic,
      input: 14,
      output: 6,
      stream: true,
    });
  });
});

describe("cached tokens across formats", () => {
  it("openai SDK served by Anthropic: cache reads and writes count in prompt_tokens, cached_tokens shown", async () => {
    // Anthropic's input_tokens excludes cache reads and writes; OpenAI's prompt_tokens includes them.
    fake.setUsage("anthropic", { input: 10, output: 5, cacheRead: 30, cacheWrite: 4 });
    const { data, response } = await openaiClient(gw, key)
      .chat.completions.create({
        model: MODELS.anthropic,
        messages: [{ role: "user", content: "Say hello" }],
      })
      .withResponse();
    expect(data.usage).toMatchObject({
      prompt_tokens: 44,
      completion_tokens: 5,
      total_tokens: 49,
      prompt_tokens_details: { cached_tokens: 30 },
    });
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "anthropic",
      api: "openai.chat",
      served: MODELS.anthropic,
      input: 10,
      output: 5,
      cacheRead: 30,
      cacheWrite: 4,
      stream: false,
    });
  });

  it("@anthropic-ai/sdk served by OpenAI (streaming): cached tokens leave input_tokens", async () => {
    // OpenAI's prompt_tokens 50 includes 20 cached tokens.
    fake.setUsage("openai", { input: 50, output: 7, cacheRead: 20 });
    const stream = anthropicClient(gw, key).messages.stream({
      model: MODELS.openai,
      max_tokens: 100,
      messages: [{ role: "user", content: "Say hello" }],
    });
    const { response } = await stream.withResponse();
    const final = await stream.finalMessage();
    expect(final.usage).toMatchObject({ input_tokens: 30, output_tokens: 7, cache_read_input_tokens: 20 });
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "openai",
      api: "anthropic.messages",
      served: MODELS.openai,
      input: 30,
      output: 7,
      cacheRead: 20,
      stream: true,
    });
  });
});

describe("@anthropic-ai/sdk → keygate → OpenAI provider", () => {
  const client = (): Anthropic => anthropicClient(gw, key);

  it("non-streaming: system prompt carried over, answer, stop reason and usage", async () => {
    fake.setUsage("openai", { input: 17, output: 9 });
    const { data, response } = await client()
      .messages.create({
        model: MODELS.openai,
        max_tokens: 200,
        system: SYSTEM,
        messages: [{ role: "user", content: "Say hello" }],
      })
      .withResponse();
    expect(data.type).toBe("message");
    expect(data.role).toBe("assistant");
    expect(data.model).toBe(MODELS.openai);
    expect(data.content).toEqual([expect.objectContaining({ type: "text", text: ANSWER })]);
    expect(data.stop_reason).toBe("end_turn");
    expect(data.usage).toMatchObject({ input_tokens: 17, output_tokens: 9 });

    const up = body(only("openai.chat"));
    expect(up.model).toBe(MODELS.openai);
    expect(up.max_tokens ?? up.max_completion_tokens).toBe(200);
    const msgs = up.messages as { role: string; content: unknown }[];
    expect(msgs.map((m) => m.role)).toEqual(["system", "user"]);
    expect(textOf(msgs[0]!.content)).toBe(SYSTEM);
    expect(textOf(msgs[1]!.content)).toBe("Say hello");
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "openai",
      api: "anthropic.messages",
      served: MODELS.openai,
      input: 17,
      output: 9,
      stream: false,
    });
  });

  it("non-streaming parallel tool calls: tool_use blocks with inputs and stop_reason tool_use", async () => {
    fake.toolCalls(2);
    const data = await client().messages.create({
      model: MODELS.openai,
      max_tokens: 200,
      messages: [{ role: "user", content: "Weather in Paris and Tokyo?" }],
      tools: [WEATHER_TOOL_ANTHROPIC],
    });
    expect(data.stop_reason).toBe("tool_use");
    const uses = data.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses.map((u) => ({ name: u.name, input: u.input }))).toEqual([
      { name: "get_weather", input: { location: "Paris" } },
      { name: "get_weather", input: { location: "Tokyo" } },
    ]);
    expect(new Set(uses.map((u) => u.id)).size).toBe(2);

    const up = body(only("openai.chat"));
    expect(up.tools).toEqual([
      {
        type: "function",
        function: expect.objectContaining({
          name: "get_weather",
          description: "Current weather for a city",
          parameters: WEATHER_TOOL_ANTHROPIC.input_schema,
        }),
      },
    ]);
  });

  it("multi-turn with tool results: assistant tool_calls and tool messages reach OpenAI", async () => {
    // The upstream answers the tool result with text (its own heuristic would call the tool again).
    fake.toolCalls(0);
    const data = await client().messages.create({
      model: MODELS.openai,
      max_tokens: 200,
      system: SYSTEM,
      tools: [WEATHER_TOOL_ANTHROPIC],
      messages: [
        { role: "user", content: "What is the weather in Paris?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_01", name: "get_weather", input: { location: "Paris" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "18°C and sunny" }],
        },
      ],
    });
    expect(data.content).toEqual([expect.objectContaining({ type: "text", text: ANSWER })]);
    expect(data.stop_reason).toBe("end_turn");

    const up = body(only("openai.chat"));
    const msgs = up.messages as Record<string, unknown>[];
    expect(msgs.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    const calls = msgs[2]!.tool_calls as {
      id: string;
      type: string;
      function: { name: string; arguments: string };
    }[];
    expect(calls).toHaveLength(1);
    expect(calls[0]!.id).toBe("toolu_01");
    expect(calls[0]!.type).toBe("function");
    expect(calls[0]!.function.name).toBe("get_weather");
    expect(JSON.parse(calls[0]!.function.arguments)).toEqual({ location: "Paris" });
    expect(msgs[3]!.tool_call_id).toBe("toolu_01");
    expect(textOf(msgs[3]!.content)).toBe("18°C and sunny");
  });

  it("streaming text: events in Anthropic's order, final message and usage", async () => {
    fake.setUsage("openai", { input: 26, output: 11 });
    const stream = client().messages.stream({
      model: MODELS.openai,
      max_tokens: 200,
      system: SYSTEM,
      messages: [{ role: "user", content: "Say hello" }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (e) => types.push(e.type));
    const { response } = await stream.withResponse();
    const final = await stream.finalMessage();
    expect(final.content).toEqual([expect.objectContaining({ type: "text", text: ANSWER })]);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage).toMatchObject({ input_tokens: 26, output_tokens: 11 });
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
    expect(types).toContain("content_block_delta");
    const up = body(only("openai.chat"));
    expect(up.stream).toBe(true);
    await expectRecordedUsage(requestIdOf(response.headers), {
      provider: "openai",
      api: "anthropic.messages",
      served: MODELS.openai,
      input: 26,
      output: 11,
      stream: true,
    });
  });

  it("streaming parallel tool calls: the SDK's final message has both tool_use blocks", async () => {
    fake.toolCalls(2);
    const stream = client().messages.stream({
      model: MODELS.openai,
      max_tokens: 200,
      messages: [{ role: "user", content: "Weather in Paris and Tokyo?" }],
      tools: [WEATHER_TOOL_ANTHROPIC],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const uses = final.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses.map((u) => ({ name: u.name, input: u.input }))).toEqual([
      { name: "get_weather", input: { location: "Paris" } },
      { name: "get_weather", input: { location: "Tokyo" } },
    ]);
  });
});

describe("openai SDK → keygate → Gemini and Ollama providers", () => {
  const cases = [
    { family: "google" as const, model: MODELS.gemini, route: "google.generate" as const },
    { family: "ollama" as const, model: MODELS.ollama, route: "ollama.chat" as const },
  ];

  for (const c of cases) {
    it(`${c.family}: non-streaming answer, finish reason and recorded usage`, async () => {
      fake.setUsage(c.family, { input: 19, output: 7 });
      const { data, response } = await openaiClient(gw, key)
        .chat.completions.create({
          model: c.model,
          messages: [
            { role: "system", content: SYSTEM },
            { role: "user", content: "Say hello" },
          ],
        })
        .withResponse();
      expect(data.choices[0]!.message.content).toBe(ANSWER);
      expect(data.choices[0]!.finish_reason).toBe("stop");
      expect(data.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 7, total_tokens: 26 });
      const up = only(c.route);
      expect(up.stream).toBe(false);
      if (c.family === "google") {
        expect(up.path).toBe(`/v1beta/models/${c.model}:generateContent`);
        expect(textOf((body(up).systemInstruction as { parts?: unknown } | undefined)?.parts)).toBe(SYSTEM);
      } else {
        expect(body(up).model).toBe(c.model);
        expect((body(up).messages as { role: string }[]).map((m) => m.role)).toEqual(["system", "user"]);
      }
      await expectRecordedUsage(requestIdOf(response.headers), {
        provider: c.family,
        api: "openai.chat",
        served: c.model,
        input: 19,
        output: 7,
        stream: false,
      });
    });

    it(`${c.family}: streaming answer with a final usage chunk and recorded usage`, async () => {
      fake.setUsage(c.family, { input: 23, output: 13 });
      const { data: stream, response } = await openaiClient(gw, key)
        .chat.completions.create({
          model: c.model,
          messages: [{ role: "user", content: "Say hello" }],
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      let text = "";
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(ANSWER);
      expect(finish).toBe("stop");
      expect(usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 13, total_tokens: 36 });
      expect(only(c.route).stream).toBe(true);
      await expectRecordedUsage(requestIdOf(response.headers), {
        provider: c.family,
        api: "openai.chat",
        served: c.model,
        input: 23,
        output: 13,
        stream: true,
      });
    });
  }
});

describe("an OpenAI-SDK agent moved to another provider by keygate's config alone", () => {
  /** The agent's code never changes: same SDK, same model name, same request. */
  async function agent(g: RoutingGateway, k: IssuedKey): Promise<string | null> {
    const data = await openaiClient(g, k).chat.completions.create({
      model: "team-model",
      messages: [{ role: "user", content: "Say hello" }],
    });
    return data.choices[0]!.message.content;
  }

  const targets = [
    { type: "openai" as const, model: MODELS.openai, route: "openai.chat" as const },
    { type: "anthropic" as const, model: MODELS.anthropic, route: "anthropic.messages" as const },
    { type: "google" as const, model: MODELS.gemini, route: "google.generate" as const },
  ];

  for (const t of targets) {
    it(`team-model served by ${t.type}`, async () => {
      const g = await startRoutingGateway({
        providers: { upstream: provider(t.type, fake.url, [t.model]) },
        routing: { aliases: { "team-model": [{ provider: "upstream", model: t.model }] } },
      });
      try {
        const k = await issueKey(g.admin);
        expect(await agent(g, k)).toBe(ANSWER);
        const up = only(t.route);
        if (t.type === "google") expect(up.path).toContain(`/models/${t.model}:`);
        else expect(body(up).model).toBe(t.model);
      } finally {
        await g.dispose();
      }
    });
  }
});
