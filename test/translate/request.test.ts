// Request translation, feature by feature and target by target, for both client formats;
// round trips through the hub; and every unsupported feature refused by name.
import { describe, expect, it } from "vitest";
import type { WireFamily } from "../../server/src/providers/types.js";
import { TranslationError, translateRequest, type ClientFamily } from "../../server/src/translate/index.js";

type Json = Record<string, unknown>;
const OPTS = { model: "target-model", stream: false };

function translate(from: ClientFamily, to: WireFamily, body: Json, opts = OPTS): Json {
  return translateRequest(from, to, body, opts).body as Json;
}

const WEATHER_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const TIME_SCHEMA = { type: "object", properties: { tz: { type: "string" } } };

// ---------------------------------------------------------------------------------------------
// OpenAI chat completions client

const oa = (extra: Json = {}): Json => ({
  model: "gpt-4o",
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

const OA_TOOLS = [
  {
    type: "function",
    function: { name: "get_weather", description: "Weather now", parameters: WEATHER_SCHEMA },
  },
  { type: "function", function: { name: "get_time", parameters: TIME_SCHEMA } },
];

const OA_TOOL_TURNS = [
  { role: "user", content: "Weather and time in Paris?" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { id: "call_2", type: "function", function: { name: "get_time", arguments: '{"tz":"CET"}' } },
    ],
  },
  { role: "tool", tool_call_id: "call_1", content: "18C" },
  { role: "tool", tool_call_id: "call_2", content: "12:00" },
  { role: "user", content: "Thanks" },
];

interface FeatureCase {
  feature: string;
  body: Json;
  expect: Partial<Record<WireFamily, Json | { error: string }>>;
}

const OPENAI_CLIENT_CASES: FeatureCase[] = [
  {
    feature: "system and developer messages",
    body: oa({
      messages: [
        { role: "system", content: "Be terse." },
        { role: "developer", content: [{ type: "text", text: "Use metric." }] },
        { role: "user", content: "hi" },
      ],
    }),
    expect: {
      anthropic: {
        system: [
          { type: "text", text: "Be terse." },
          { type: "text", text: "Use metric." },
        ],
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      },
      google: {
        systemInstruction: { parts: [{ text: "Be terse." }, { text: "Use metric." }] },
        contents: [{ role: "user", parts: [{ text: "hi" }] }],
      },
      ollama: {
        messages: [
          { role: "system", content: "Be terse.\n\nUse metric." },
          { role: "user", content: "hi" },
        ],
      },
    },
  },
  {
    feature: "a system message later in the conversation",
    body: oa({
      messages: [
        { role: "user", content: "hi" },
        { role: "system", content: "Now answer in French." },
        { role: "user", content: "again" },
      ],
    }),
    expect: {
      anthropic: {
        system: [{ type: "text", text: "Now answer in French." }],
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "hi" },
              { type: "text", text: "again" },
            ],
          },
        ],
      },
      google: {
        systemInstruction: { parts: [{ text: "Now answer in French." }] },
        contents: [{ role: "user", parts: [{ text: "hi" }, { text: "again" }] }],
      },
      ollama: {
        messages: [
          { role: "user", content: "hi" },
          { role: "system", content: "Now answer in French." },
          { role: "user", content: "again" },
        ],
      },
    },
  },
  {
    feature: "multi-turn",
    body: oa({
      messages: [
        { role: "user", content: "Hello" },
        { role: "assistant", content: "Hi there" },
        { role: "user", content: "How are you?" },
      ],
    }),
    expect: {
      anthropic: {
        messages: [
          { role: "user", content: [{ type: "text", text: "Hello" }] },
          { role: "assistant", content: [{ type: "text", text: "Hi there" }] },
          { role: "user", content: [{ type: "text", text: "How are you?" }] },
        ],
      },
      google: {
        contents: [
          { role: "user", parts: [{ text: "Hello" }] },
          { role: "model", parts: [{ text: "Hi there" }] },
          { role: "user", parts: [{ text: "How are you?" }] },
        ],
      },
      ollama: {
        messages: [
          { role: "user", content: "Hello" },
          { role: "assistant", content: "Hi there" },
          { role: "user", content: "How are you?" },
        ],
      },
    },
  },
  {
    feature: "tool definitions with tool_choice auto",
    body: oa({ tools: OA_TOOLS, tool_choice: "auto" }),
    expect: {
      anthropic: {
        tools: [
          { name: "get_weather", description: "Weather now", input_schema: WEATHER_SCHEMA },
          { name: "get_time", input_schema: TIME_SCHEMA },
        ],
        tool_choice: { type: "auto" },
      },
      google: {
        tools: [
          {
            functionDeclarations: [
              { name: "get_weather", description: "Weather now", parametersJsonSchema: WEATHER_SCHEMA },
              { name: "get_time", parametersJsonSchema: TIME_SCHEMA },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: "AUTO" } },
      },
      ollama: {
        tools: [
          {
            type: "function",
            function: { name: "get_weather", description: "Weather now", parameters: WEATHER_SCHEMA },
          },
          { type: "function", function: { name: "get_time", parameters: TIME_SCHEMA } },
        ],
      },
    },
  },
  {
    feature: "tool_choice required",
    body: oa({ tools: OA_TOOLS, tool_choice: "required" }),
    expect: {
      anthropic: { tool_choice: { type: "any" } },
      google: { toolConfig: { functionCallingConfig: { mode: "ANY" } } },
      ollama: { error: "tool_choice required" },
    },
  },
  {
    feature: "tool_choice naming a function",
    body: oa({ tools: OA_TOOLS, tool_choice: { type: "function", function: { name: "get_time" } } }),
    expect: {
      anthropic: { tool_choice: { type: "tool", name: "get_time" } },
      google: { toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_time"] } } },
      ollama: { error: "tool_choice naming one tool" },
    },
  },
  {
    feature: "tool_choice none",
    body: oa({ tools: OA_TOOLS, tool_choice: "none" }),
    expect: {
      anthropic: { tool_choice: { type: "none" } },
      google: { toolConfig: { functionCallingConfig: { mode: "NONE" } } },
      ollama: { messages: [{ role: "user", content: "hi" }] },
    },
  },
  {
    feature: "parallel_tool_calls false",
    body: oa({ tools: OA_TOOLS, parallel_tool_calls: false }),
    expect: {
      anthropic: { tool_choice: { type: "auto", disable_parallel_tool_use: true } },
      google: { error: "parallel_tool_calls: false" },
      ollama: { error: "parallel_tool_calls: false" },
    },
  },
  {
    feature: "parallel tool calls and their results",
    body: oa({ messages: OA_TOOL_TURNS, tools: OA_TOOLS }),
    expect: {
      anthropic: {
        messages: [
          { role: "user", content: [{ type: "text", text: "Weather and time in Paris?" }] },
          {
            role: "assistant",
            content: [
              { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
              { type: "tool_use", id: "call_2", name: "get_time", input: { tz: "CET" } },
            ],
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "call_1", content: [{ type: "text", text: "18C" }] },
              { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "12:00" }] },
              { type: "text", text: "Thanks" },
            ],
          },
        ],
      },
      google: {
        contents: [
          { role: "user", parts: [{ text: "Weather and time in Paris?" }] },
          {
            role: "model",
            parts: [
              {
                functionCall: { name: "get_weather", args: { city: "Paris" } },
                thoughtSignature: "skip_thought_signature_validator",
              },
              { functionCall: { name: "get_time", args: { tz: "CET" } } },
            ],
          },
          {
            role: "user",
            parts: [
              { functionResponse: { name: "get_weather", response: { output: "18C" } } },
              { functionResponse: { name: "get_time", response: { output: "12:00" } } },
              { text: "Thanks" },
            ],
          },
        ],
      },
      ollama: {
        messages: [
          { role: "user", content: "Weather and time in Paris?" },
          {
            role: "assistant",
            content: "",
            tool_calls: [
              { function: { name: "get_weather", arguments: { city: "Paris" } } },
              { function: { name: "get_time", arguments: { tz: "CET" } } },
            ],
          },
          { role: "tool", content: "18C", tool_name: "get_weather" },
          { role: "tool", content: "12:00", tool_name: "get_time" },
          { role: "user", content: "Thanks" },
        ],
      },
    },
  },
  {
    feature: "base64 images",
    body: oa({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "high" } },
          ],
        },
      ],
    }),
    expect: {
      anthropic: {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            ],
          },
        ],
      },
      google: {
        contents: [
          {
            role: "user",
            parts: [
              { text: "What is this?" },
              { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
            ],
          },
        ],
      },
      ollama: { messages: [{ role: "user", content: "What is this?", images: ["iVBORw0KGgo="] }] },
    },
  },
  {
    feature: "image URLs",
    body: oa({
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.jpg" } }] },
      ],
    }),
    expect: {
      anthropic: {
        messages: [
          {
            role: "user",
            content: [{ type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } }],
          },
        ],
      },
      google: {
        contents: [
          {
            role: "user",
            parts: [{ fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/cat.jpg" } }],
          },
        ],
      },
      ollama: { error: "image_url with a remote URL" },
    },
  },
  {
    feature: "stop",
    body: oa({ stop: ["END", "STOP"] }),
    expect: {
      anthropic: { stop_sequences: ["END", "STOP"] },
      google: { generationConfig: { stopSequences: ["END", "STOP"] } },
      ollama: { options: { stop: ["END", "STOP"] } },
    },
  },
  {
    feature: "stop as a single string",
    body: oa({ stop: "END" }),
    expect: {
      anthropic: { stop_sequences: ["END"] },
      google: { generationConfig: { stopSequences: ["END"] } },
      ollama: { options: { stop: ["END"] } },
    },
  },
  {
    feature: "temperature and top_p",
    body: oa({ temperature: 0.5, top_p: 0.9 }),
    expect: {
      anthropic: { temperature: 0.5, top_p: 0.9 },
      google: { generationConfig: { temperature: 0.5, topP: 0.9 } },
      ollama: { options: { temperature: 0.5, top_p: 0.9 } },
    },
  },
  {
    feature: "max_tokens",
    body: oa({ max_tokens: 300 }),
    expect: {
      anthropic: { max_tokens: 300 },
      google: { generationConfig: { maxOutputTokens: 300 } },
      ollama: { options: { num_predict: 300 } },
    },
  },
  {
    feature: "max_completion_tokens",
    body: oa({ max_completion_tokens: 250 }),
    expect: {
      anthropic: { max_tokens: 250 },
      google: { generationConfig: { maxOutputTokens: 250 } },
      ollama: { options: { num_predict: 250 } },
    },
  },
  {
    feature: "seed and penalties",
    body: oa({ seed: 7, presence_penalty: 0.1, frequency_penalty: 0.2 }),
    expect: {
      anthropic: { error: "seed" },
      google: { generationConfig: { seed: 7, presencePenalty: 0.1, frequencyPenalty: 0.2 } },
      ollama: { options: { seed: 7, presence_penalty: 0.1, frequency_penalty: 0.2 } },
    },
  },
  {
    feature: "response_format json_schema",
    body: oa({
      response_format: { type: "json_schema", json_schema: { name: "city", schema: WEATHER_SCHEMA } },
    }),
    expect: {
      anthropic: { output_config: { format: { type: "json_schema", schema: WEATHER_SCHEMA } } },
      google: {
        generationConfig: { responseMimeType: "application/json", responseJsonSchema: WEATHER_SCHEMA },
      },
      ollama: { format: WEATHER_SCHEMA },
    },
  },
  {
    feature: "response_format json_object",
    body: oa({ response_format: { type: "json_object" } }),
    expect: {
      anthropic: { error: "response_format json_object" },
      google: { generationConfig: { responseMimeType: "application/json" } },
      ollama: { format: "json" },
    },
  },
];

describe("OpenAI client requests", () => {
  describe.each(OPENAI_CLIENT_CASES)("$feature", ({ body, expect: expected }) => {
    it.each(Object.entries(expected))("to %s", (target, want) => {
      const to = target as WireFamily;
      if ("error" in want) {
        const error = captureError(() => translate("openai", to, body));
        expect(error.feature).toBe(want.error);
        expect(error.status).toBe(400);
        expect(error.message).toBe(`${String(want.error)} is not supported by provider type ${to}`);
      } else {
        expect(translate("openai", to, body)).toMatchObject(want);
      }
    });
  });

  it("sets the routed model and an explicit stream flag", () => {
    const body = oa({ stream: true, stream_options: { include_usage: true } });
    const streamOpts = { model: "target-model", stream: true };
    expect(translate("openai", "anthropic", body, streamOpts)).toMatchObject({
      model: "target-model",
      stream: true,
    });
    expect(translate("openai", "ollama", body, streamOpts)).toMatchObject({
      model: "target-model",
      stream: true,
    });
    expect(translate("openai", "ollama", oa(), OPTS)).toMatchObject({ stream: false });
    const gemini = translate("openai", "google", body, streamOpts);
    expect(gemini).not.toHaveProperty("model");
    expect(gemini).not.toHaveProperty("stream");
  });

  it("honours tool_choice none on Ollama by offering no tools", () => {
    expect(translate("openai", "ollama", oa({ tools: OA_TOOLS, tool_choice: "none" }))).not.toHaveProperty(
      "tools",
    );
    expect(translate("openai", "ollama", oa({ tools: OA_TOOLS }))).toHaveProperty("tools");
  });

  it("ignores parallel_tool_calls when no tools are offered", () => {
    for (const to of ["google", "ollama"] as const) {
      expect(translate("openai", to, oa({ parallel_tool_calls: false }))).not.toHaveProperty("tools");
    }
  });

  it("gives Anthropic a max_tokens when the client set none", () => {
    expect(translate("openai", "anthropic", oa())).toMatchObject({ max_tokens: 4096 });
  });

  it("drops only caller metadata", () => {
    const out = translate(
      "openai",
      "anthropic",
      oa({
        user: "u-1",
        store: true,
        metadata: { a: "b" },
        stream_options: { include_usage: true },
        service_tier: "auto",
      }),
    );
    expect(Object.keys(out).sort()).toEqual(["max_tokens", "messages", "model"]);
  });

  it("accepts parsed JSON, text and bytes alike", () => {
    const body = oa({ temperature: 0.3 });
    const want = translate("openai", "ollama", body);
    expect(translateRequest("openai", "ollama", JSON.stringify(body), OPTS).body).toEqual(want);
    expect(
      translateRequest("openai", "ollama", new TextEncoder().encode(JSON.stringify(body)), OPTS).body,
    ).toEqual(want);
  });
});

// ---------------------------------------------------------------------------------------------
// Anthropic Messages client

const an = (extra: Json = {}): Json => ({
  model: "claude-sonnet-4",
  max_tokens: 1024,
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

const AN_TOOLS = [
  { name: "get_weather", description: "Weather now", input_schema: WEATHER_SCHEMA },
  { name: "get_time", input_schema: TIME_SCHEMA },
];

const AN_TOOL_TURNS = [
  { role: "user", content: "Weather and time in Paris?" },
  {
    role: "assistant",
    content: [
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_2", name: "get_time", input: { tz: "CET" } },
    ],
  },
  {
    role: "user",
    content: [
      { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
      {
        type: "tool_result",
        tool_use_id: "toolu_2",
        content: [{ type: "text", text: "clock offline" }],
        is_error: true,
      },
    ],
  },
];

const ANTHROPIC_CLIENT_CASES: FeatureCase[] = [
  {
    feature: "system prompt",
    body: an({ system: [{ type: "text", text: "Be terse.", cache_control: { type: "ephemeral" } }] }),
    expect: {
      openai: {
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "hi" },
        ],
      },
      google: { systemInstruction: { parts: [{ text: "Be terse." }] } },
      ollama: {
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "hi" },
        ],
      },
    },
  },
  {
    feature: "multi-turn",
    body: an({
      system: "Be terse.",
      messages: [
        { role: "user", content: "Hello" },
        { role: "assistant", content: [{ type: "text", text: "Hi there" }] },
        { role: "user", content: [{ type: "text", text: "How are you?" }] },
      ],
    }),
    expect: {
      openai: {
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "Hello" },
          { role: "assistant", content: "Hi there" },
          { role: "user", content: "How are you?" },
        ],
      },
      google: {
        contents: [
          { role: "user", parts: [{ text: "Hello" }] },
          { role: "model", parts: [{ text: "Hi there" }] },
          { role: "user", parts: [{ text: "How are you?" }] },
        ],
      },
      ollama: {
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "Hello" },
          { role: "assistant", content: "Hi there" },
          { role: "user", content: "How are you?" },
        ],
      },
    },
  },
  {
    feature: "tool definitions",
    body: an({ tools: AN_TOOLS }),
    expect: {
      openai: { tools: OA_TOOLS },
      google: {
        tools: [
          {
            functionDeclarations: [
              { name: "get_weather", description: "Weather now", parametersJsonSchema: WEATHER_SCHEMA },
              { name: "get_time", parametersJsonSchema: TIME_SCHEMA },
            ],
          },
        ],
      },
      ollama: {
        tools: [
          {
            type: "function",
            function: { name: "get_weather", description: "Weather now", parameters: WEATHER_SCHEMA },
          },
          { type: "function", function: { name: "get_time", parameters: TIME_SCHEMA } },
        ],
      },
    },
  },
  {
    feature: "tool_choice any",
    body: an({ tools: AN_TOOLS, tool_choice: { type: "any" } }),
    expect: {
      openai: { tool_choice: "required" },
      google: { toolConfig: { functionCallingConfig: { mode: "ANY" } } },
      ollama: { error: "tool_choice required" },
    },
  },
  {
    feature: "tool_choice tool",
    body: an({ tools: AN_TOOLS, tool_choice: { type: "tool", name: "get_weather" } }),
    expect: {
      openai: { tool_choice: { type: "function", function: { name: "get_weather" } } },
      google: {
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } },
      },
      ollama: { error: "tool_choice naming one tool" },
    },
  },
  {
    feature: "disable_parallel_tool_use",
    body: an({ tools: AN_TOOLS, tool_choice: { type: "auto", disable_parallel_tool_use: true } }),
    expect: {
      openai: { tool_choice: "auto", parallel_tool_calls: false },
      google: { error: "parallel_tool_calls: false" },
      ollama: { error: "parallel_tool_calls: false" },
    },
  },
  {
    feature: "parallel tool calls and results, one failed",
    body: an({ messages: AN_TOOL_TURNS, tools: AN_TOOLS }),
    expect: {
      openai: {
        messages: [
          { role: "user", content: "Weather and time in Paris?" },
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [
              {
                id: "toolu_1",
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Paris"}' },
              },
              { id: "toolu_2", type: "function", function: { name: "get_time", arguments: '{"tz":"CET"}' } },
            ],
          },
          { role: "tool", tool_call_id: "toolu_1", content: "18C" },
          { role: "tool", tool_call_id: "toolu_2", content: "Error: clock offline" },
        ],
      },
      google: {
        contents: [
          { role: "user", parts: [{ text: "Weather and time in Paris?" }] },
          {
            role: "model",
            parts: [
              { text: "Checking." },
              {
                functionCall: { name: "get_weather", args: { city: "Paris" } },
                thoughtSignature: "skip_thought_signature_validator",
              },
              { functionCall: { name: "get_time", args: { tz: "CET" } } },
            ],
          },
          {
            role: "user",
            parts: [
              { functionResponse: { name: "get_weather", response: { output: "18C" } } },
              { functionResponse: { name: "get_time", response: { error: "clock offline" } } },
            ],
          },
        ],
      },
      ollama: {
        messages: [
          { role: "user", content: "Weather and time in Paris?" },
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [
              { function: { name: "get_weather", arguments: { city: "Paris" } } },
              { function: { name: "get_time", arguments: { tz: "CET" } } },
            ],
          },
          { role: "tool", content: "18C", tool_name: "get_weather" },
          { role: "tool", content: "Error: clock offline", tool_name: "get_time" },
        ],
      },
    },
  },
  {
    feature: "base64 images",
    body: an({
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
            { type: "text", text: "What is this?" },
          ],
        },
      ],
    }),
    expect: {
      openai: {
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
              { type: "text", text: "What is this?" },
            ],
          },
        ],
      },
      google: {
        contents: [
          {
            role: "user",
            parts: [{ inlineData: { mimeType: "image/jpeg", data: "/9j/4AAQ" } }, { text: "What is this?" }],
          },
        ],
      },
      ollama: { messages: [{ role: "user", content: "What is this?", images: ["/9j/4AAQ"] }] },
    },
  },
  {
    feature: "image URLs",
    body: an({
      messages: [
        {
          role: "user",
          content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }],
        },
      ],
    }),
    expect: {
      openai: {
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] },
        ],
      },
      google: {
        contents: [
          {
            role: "user",
            parts: [{ fileData: { mimeType: "image/png", fileUri: "https://example.com/a.png" } }],
          },
        ],
      },
      ollama: { error: "image source of type url" },
    },
  },
  {
    feature: "stop_sequences",
    body: an({ stop_sequences: ["END"] }),
    expect: {
      openai: { stop: ["END"] },
      google: { generationConfig: { stopSequences: ["END"] } },
      ollama: { options: { stop: ["END"] } },
    },
  },
  {
    feature: "temperature and top_p",
    body: an({ temperature: 0.2, top_p: 0.8 }),
    expect: {
      openai: { temperature: 0.2, top_p: 0.8 },
      google: { generationConfig: { temperature: 0.2, topP: 0.8 } },
      ollama: { options: { temperature: 0.2, top_p: 0.8 } },
    },
  },
  {
    feature: "top_k",
    body: an({ top_k: 40 }),
    expect: {
      openai: { error: "top_k" },
      google: { generationConfig: { topK: 40 } },
      ollama: { options: { top_k: 40 } },
    },
  },
  {
    feature: "max_tokens",
    body: an({ max_tokens: 512 }),
    expect: {
      openai: { max_completion_tokens: 512 },
      google: { generationConfig: { maxOutputTokens: 512 } },
      ollama: { options: { num_predict: 512 } },
    },
  },
  {
    feature: "structured output",
    body: an({ output_config: { format: { type: "json_schema", schema: WEATHER_SCHEMA } } }),
    expect: {
      openai: {
        response_format: { type: "json_schema", json_schema: { name: "response", schema: WEATHER_SCHEMA } },
      },
      google: {
        generationConfig: { responseMimeType: "application/json", responseJsonSchema: WEATHER_SCHEMA },
      },
      ollama: { format: WEATHER_SCHEMA },
    },
  },
  {
    feature: "extended thinking",
    body: an({ thinking: { type: "enabled", budget_tokens: 2048 } }),
    expect: { openai: { error: "thinking" }, google: { error: "thinking" }, ollama: { error: "thinking" } },
  },
];

describe("Anthropic client requests", () => {
  describe.each(ANTHROPIC_CLIENT_CASES)("$feature", ({ body, expect: expected }) => {
    it.each(Object.entries(expected))("to %s", (target, want) => {
      const to = target as WireFamily;
      if ("error" in want) {
        const error = captureError(() => translate("anthropic", to, body));
        expect(error.feature).toBe(want.error);
        expect(error.message).toBe(`${String(want.error)} is not supported by provider type ${to}`);
      } else {
        expect(translate("anthropic", to, body)).toMatchObject(want);
      }
    });
  });

  it("asks an OpenAI upstream for stream usage, since Anthropic clients always get it", () => {
    expect(
      translate("anthropic", "openai", an({ stream: true }), { model: "gpt-4o", stream: true }),
    ).toMatchObject({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("drops metadata and cache hints, and the reasoning blocks of earlier turns", () => {
    const out = translate(
      "anthropic",
      "openai",
      an({
        metadata: { user_id: "u-1" },
        messages: [
          { role: "user", content: "hi" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "hmm", signature: "sig" },
              { type: "text", text: "Hello", cache_control: { type: "ephemeral" } },
            ],
          },
          { role: "user", content: "bye" },
        ],
      }),
    );
    expect(out).toEqual({
      model: "target-model",
      max_completion_tokens: 1024,
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "Hello" },
        { role: "user", content: "bye" },
      ],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// round trips: client format -> other client format -> back gives the original request

describe("round trips through the hub", () => {
  it("OpenAI -> Anthropic -> OpenAI keeps every feature", () => {
    const original = {
      model: "target-model",
      messages: [
        { role: "system", content: "Be terse." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this, and the weather?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
        ...OA_TOOL_TURNS.slice(1),
      ],
      max_completion_tokens: 300,
      temperature: 0.5,
      top_p: 0.9,
      stop: ["END"],
      tools: OA_TOOLS,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      stream: true,
      stream_options: { include_usage: true },
    };
    const opts = { model: "target-model", stream: true };
    const anthropic = translateRequest("openai", "anthropic", original, opts).body;
    expect(translateRequest("anthropic", "openai", anthropic, opts).body).toEqual(original);
  });

  it("Anthropic -> OpenAI -> Anthropic keeps every feature", () => {
    const original = {
      model: "target-model",
      max_tokens: 700,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather and time in Paris?" },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          ],
        },
        AN_TOOL_TURNS[1],
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "18C" }] },
            { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "12:00" }] },
          ],
        },
      ],
      system: [{ type: "text", text: "Be terse." }],
      temperature: 0.2,
      top_p: 0.8,
      stop_sequences: ["END"],
      tools: AN_TOOLS,
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      stream: true,
    };
    const opts = { model: "target-model", stream: true };
    const openai = translateRequest("anthropic", "openai", original, opts).body;
    expect(translateRequest("openai", "anthropic", openai, opts).body).toEqual(original);
  });
});

// ---------------------------------------------------------------------------------------------
// features a target cannot express are refused by name, never dropped

function captureError(fn: () => unknown): TranslationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TranslationError) return error;
    throw error;
  }
  throw new Error("expected a TranslationError");
}

const UNSUPPORTED: [string, ClientFamily, WireFamily[], Json, string][] = [
  ["n > 1", "openai", ["anthropic", "google", "ollama"], oa({ n: 2 }), "n > 1"],
  [
    "logprobs",
    "openai",
    ["anthropic", "google", "ollama"],
    oa({ logprobs: true, top_logprobs: 2 }),
    "logprobs",
  ],
  ["logit_bias", "openai", ["anthropic", "ollama"], oa({ logit_bias: { "50256": -100 } }), "logit_bias"],
  [
    "audio output",
    "openai",
    ["anthropic"],
    oa({ modalities: ["text", "audio"] }),
    "modalities other than text",
  ],
  [
    "audio input",
    "openai",
    ["google"],
    oa({
      messages: [
        { role: "user", content: [{ type: "input_audio", input_audio: { data: "AA", format: "wav" } }] },
      ],
    }),
    "input_audio content part",
  ],
  ["legacy functions", "openai", ["anthropic"], oa({ functions: [{ name: "f" }] }), "functions"],
  [
    "reasoning_effort",
    "openai",
    ["anthropic", "google", "ollama"],
    oa({ reasoning_effort: "high" }),
    "reasoning_effort",
  ],
  ["web search", "openai", ["google"], oa({ web_search_options: {} }), "web_search_options"],
  ["an unknown parameter", "openai", ["ollama"], oa({ frobnicate: 1 }), "frobnicate"],
  [
    "custom tools",
    "openai",
    ["anthropic"],
    oa({ tools: [{ type: "custom", custom: { name: "x" } }] }),
    "custom tools",
  ],
  [
    "allowed_tools tool_choice",
    "openai",
    ["anthropic"],
    oa({
      tools: OA_TOOLS,
      tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [] } },
    }),
    "tool_choice allowed_tools",
  ],
  [
    "temperature above Anthropic's range",
    "openai",
    ["anthropic"],
    oa({ temperature: 1.5 }),
    "temperature above 1",
  ],
  [
    "an image type Anthropic does not read",
    "openai",
    ["anthropic"],
    oa({
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }] },
      ],
    }),
    "image type image/bmp",
  ],
  [
    "a remote image Gemini cannot type",
    "openai",
    ["google"],
    oa({
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/img" } }] },
      ],
    }),
    "image_url with a remote URL whose image type is not named by its extension",
  ],
  [
    "documents",
    "anthropic",
    ["openai", "google", "ollama"],
    an({
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBE" } },
          ],
        },
      ],
    }),
    "document content blocks",
  ],
  [
    "server tools",
    "anthropic",
    ["openai", "google"],
    an({ tools: [{ type: "web_search_20250305", name: "web_search" }] }),
    "web_search_20250305 tools",
  ],
  [
    "output effort",
    "anthropic",
    ["openai"],
    an({ output_config: { effort: "high" } }),
    "output_config.effort",
  ],
  [
    "MCP servers",
    "anthropic",
    ["openai"],
    an({ mcp_servers: [{ type: "url", url: "https://x" }] }),
    "mcp_servers",
  ],
  [
    "images in tool results",
    "anthropic",
    ["openai", "google", "ollama"],
    an({
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "shot", input: {} }] },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "t1",
              content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "AA" } }],
            },
          ],
        },
      ],
    }),
    "images in tool results",
  ],
];

describe("unsupported features", () => {
  const rows = UNSUPPORTED.flatMap(([name, from, targets, body, feature]) =>
    targets.map((to) => [name, from, to, body, feature] as const),
  );
  it.each(rows)("%s (%s client -> %s) is refused by name", (_name, from, to, body, feature) => {
    const error = captureError(() => translate(from, to, body));
    expect(error).toBeInstanceOf(TranslationError);
    expect(error.status).toBe(400);
    expect(error.feature).toBe(feature);
    expect(error.message).toBe(`${feature} is not supported by provider type ${to}`);
  });

  it("a tool result whose call is unknown cannot be named for Gemini or Ollama", () => {
    const body = an({
      messages: [
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_gone", content: "x" }] },
      ],
    });
    for (const to of ["google", "ollama"] as const) {
      const error = captureError(() => translate("anthropic", to, body));
      expect(error.feature).toBe("tool result");
      expect(error.message).toContain("toolu_gone");
    }
    expect(translate("anthropic", "openai", body)).toMatchObject({
      messages: [{ role: "tool", tool_call_id: "toolu_gone", content: "x" }],
    });
  });

  it("malformed requests are refused too", () => {
    expect(captureError(() => translate("openai", "anthropic", { model: "m" })).feature).toBe("messages");
    expect(captureError(() => translate("anthropic", "openai", { model: "m", messages: "hi" })).feature).toBe(
      "messages",
    );
    const badArgs = oa({
      messages: [
        {
          role: "assistant",
          tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }],
        },
      ],
    });
    expect(captureError(() => translate("openai", "anthropic", badArgs)).feature).toBe("tool_calls");
  });
});
