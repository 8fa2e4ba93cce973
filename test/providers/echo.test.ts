import Anthropic from "@anthropic-ai/sdk";
import { type AddressInfo } from "node:net";
import { type Server, createServer } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoResponse, echoRespond } from "../../server/src/providers/echo/index.js";
import type { Api } from "../../server/src/providers/types.js";
import { createUsageTap, usageFromBody } from "../../server/src/usage/taps/index.js";

async function collect(chunks: EchoResponse["chunks"]): Promise<Uint8Array> {
  if (chunks instanceof Uint8Array) return chunks;
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Which API a request path is, as the gateway's façade would decide. */
function apiOf(path: string): Api | undefined {
  if (path === "/v1/chat/completions") return "openai.chat";
  if (path === "/v1/responses") return "openai.responses";
  if (path === "/v1/embeddings") return "openai.embeddings";
  if (path === "/v1/messages") return "anthropic.messages";
  if (path === "/v1/messages/count_tokens") return "anthropic.count_tokens";
  if (/^\/v1beta\/models\/[^/]+:(stream)?[gG]enerateContent$/.test(path)) return "google.generate";
  if (path === "/api/chat") return "ollama.chat";
  if (path === "/api/generate") return "ollama.generate";
  return undefined;
}

let server: Server;
let origin = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on("data", (c: Buffer) => body.push(c));
    req.on("end", () => {
      void (async () => {
        const url = new URL(req.url ?? "/", "http://x");
        const api = apiOf(url.pathname);
        if (!api) {
          res.writeHead(404).end();
          return;
        }
        const parsed: unknown = JSON.parse(Buffer.concat(body).toString("utf8"));
        const flag =
          typeof parsed === "object" && parsed !== null ? (parsed as { stream?: unknown }).stream : undefined;
        const stream =
          api === "google.generate"
            ? url.pathname.includes(":streamGenerateContent")
            : api.startsWith("ollama.")
              ? flag !== false
              : flag === true;
        const out = echoRespond(api, parsed, stream);
        res.writeHead(out.status, Object.fromEntries(out.headers));
        if (out.chunks instanceof Uint8Array) res.end(out.chunks);
        else {
          for await (const chunk of out.chunks) res.write(chunk);
          res.end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("echo with the official openai SDK", () => {
  const client = () => new OpenAI({ apiKey: "kg-test", baseURL: `${origin}/v1`, maxRetries: 0 });
  const messages = [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "first" },
    { role: "assistant" as const, content: "echo: first" },
    { role: "user" as const, content: "Grüße 🌍" },
  ];

  it("chat completion", async () => {
    const completion = await client().chat.completions.create({ model: "echo-1", messages });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("echo-1");
    expect(completion.choices[0]?.message.content).toBe("echo: Grüße 🌍");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    const inputChars = "Be brief.".length + "first".length + "echo: first".length + "Grüße 🌍".length;
    expect(completion.usage).toMatchObject({
      prompt_tokens: Math.ceil(inputChars / 4),
      completion_tokens: Math.ceil("echo: Grüße 🌍".length / 4),
    });
  });

  it("chat stream with include_usage", async () => {
    const stream = await client().chat.completions.create({
      model: "echo-1",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content).toBe("echo: Grüße 🌍");
    expect(usage?.completion_tokens).toBe(Math.ceil(content.length / 4));
  });

  it("chat stream helper accumulates a final completion", async () => {
    const runner = client().chat.completions.stream({
      model: "echo-1",
      messages: [{ role: "user", content: "hi" }],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("echo: hi");
  });

  it("responses, plain and streamed", async () => {
    const response = await client().responses.create({ model: "echo-1", input: "hello there" });
    expect(response.output_text).toBe("echo: hello there");
    expect(response.status).toBe("completed");
    expect(response.usage?.input_tokens).toBe(Math.ceil("hello there".length / 4));

    const items = [
      { role: "user" as const, content: "older" },
      { role: "user" as const, content: [{ type: "input_text" as const, text: "latest ✨" }] },
    ];
    const stream = client().responses.stream({ model: "echo-1", input: items, instructions: "sys" });
    let deltas = "";
    stream.on("response.output_text.delta", (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    expect(deltas).toBe("echo: latest ✨");
    expect(final.output_text).toBe("echo: latest ✨");
    expect(final.usage?.input_tokens).toBe(Math.ceil("sysolderlatest ✨".length / 4));
  });

  it("embeddings, base64 (the SDK default) and float, deterministic", async () => {
    const a = await client().embeddings.create({ model: "echo-1", input: ["alpha", "beta"] });
    const b = await client().embeddings.create({
      model: "echo-1",
      input: ["alpha", "beta"],
      encoding_format: "float",
    });
    expect(a.data).toHaveLength(2);
    expect(a.data[0]?.embedding).toHaveLength(16);
    for (let i = 0; i < 2; i++) {
      const x = a.data[i]?.embedding ?? [];
      const y = b.data[i]?.embedding ?? [];
      expect(x.map((v) => Math.fround(v))).toEqual(y.map((v) => Math.fround(v)));
      expect(Math.hypot(...x)).toBeCloseTo(1, 5);
    }
    expect(a.data[0]?.embedding).not.toEqual(a.data[1]?.embedding);
    // One count per input: ceil(5 / 4) + ceil(4 / 4).
    expect(a.usage.prompt_tokens).toBe(3);
    const sized = await client().embeddings.create({ model: "echo-1", input: "x", dimensions: 64 });
    expect(sized.data[0]?.embedding).toHaveLength(64);
  });

  it("bad requests come back in OpenAI's error shape", async () => {
    const err: unknown = await client()
      .chat.completions.create({
        model: "echo-1",
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).type).toBe("invalid_request_error");
  });
});

describe("echo with the official @anthropic-ai/sdk", () => {
  const client = () => new Anthropic({ apiKey: "kg-test", baseURL: origin, maxRetries: 0 });
  const params = {
    model: "echo-1",
    max_tokens: 100,
    system: "You echo.",
    messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "ping ✓" }] }],
  };

  it("messages.create", async () => {
    const message = await client().messages.create(params);
    expect(message.type).toBe("message");
    expect(message.content).toEqual([{ type: "text", text: "echo: ping ✓" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.input_tokens).toBe(Math.ceil("You echo.ping ✓".length / 4));
  });

  it("messages.stream runs the full event sequence", async () => {
    const stream = client().messages.stream(params);
    const types: string[] = [];
    stream.on("streamEvent", (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: "text", text: "echo: ping ✓" });
    expect(final.usage.output_tokens).toBe(Math.ceil("echo: ping ✓".length / 4));
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
  });

  it("countTokens", async () => {
    const count = await client().messages.countTokens({ model: "echo-1", messages: params.messages });
    expect(count.input_tokens).toBe(Math.ceil("ping ✓".length / 4));
  });

  it("bad requests come back in Anthropic's error shape", async () => {
    const res = await fetch(`${origin}/v1/messages`, { method: "POST", body: "[1]" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });
});

describe("echo in Gemini and Ollama formats", () => {
  const gemini = {
    systemInstruction: { parts: [{ text: "sys" }] },
    contents: [
      { role: "user", parts: [{ text: "one" }] },
      { role: "model", parts: [{ text: "echo: one" }] },
      { parts: [{ text: "two" }, { text: "lines" }] },
    ],
  };

  it("generateContent", async () => {
    const res = await fetch(`${origin}/v1beta/models/echo-1:generateContent`, {
      method: "POST",
      body: JSON.stringify(gemini),
    });
    const body = (await res.json()) as {
      candidates: Array<{ content: { parts: Array<{ text: string }>; role: string }; finishReason: string }>;
      usageMetadata: Record<string, number>;
      modelVersion: string;
    };
    expect(body.candidates[0]?.content).toEqual({ parts: [{ text: "echo: two\nlines" }], role: "model" });
    expect(body.candidates[0]?.finishReason).toBe("STOP");
    expect(body.modelVersion).toBe("echo-1");
    const input = Math.ceil("sysoneecho: onetwo\nlines".length / 4);
    expect(body.usageMetadata).toMatchObject({ promptTokenCount: input, totalTokenCount: input + 4 });
  });

  it("streamGenerateContent?alt=sse", async () => {
    const res = await fetch(`${origin}/v1beta/models/echo-1:streamGenerateContent?alt=sse`, {
      method: "POST",
      body: JSON.stringify(gemini),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split("\r\n\r\n")
      .filter((e) => e !== "")
      .map(
        (e) =>
          JSON.parse(e.replace(/^data: /, "")) as {
            candidates: Array<{ content: { parts: Array<{ text: string }> } }>;
          },
      );
    expect(events.map((e) => e.candidates[0]?.content.parts[0]?.text).join("")).toBe("echo: two\nlines");
  });

  it("ollama chat, streamed by default as NDJSON, and plain", async () => {
    const req = { model: "llama3.2", messages: [{ role: "user", content: "hey" }] };
    const res = await fetch(`${origin}/api/chat`, { method: "POST", body: JSON.stringify(req) });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { message: { content: string }; done: boolean; eval_count?: number });
    expect(lines.map((l) => l.message.content).join("")).toBe("echo: hey");
    expect(lines.at(-1)).toMatchObject({
      done: true,
      done_reason: "stop",
      prompt_eval_count: 1,
      eval_count: 3,
    });
    expect(lines.slice(0, -1).every((l) => !l.done)).toBe(true);

    const plain = await fetch(`${origin}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2", prompt: "why?", stream: false }),
    });
    expect(await plain.json()).toMatchObject({ model: "llama3.2", response: "echo: why?", done: true });
  });
});

describe("echo usage agrees with what the taps read from its own output", () => {
  const cases: Array<[Api, unknown]> = [
    [
      "openai.chat",
      {
        model: "echo-1",
        messages: [{ role: "user", content: "a b c d e f" }],
        stream_options: { include_usage: true },
      },
    ],
    ["openai.responses", { model: "echo-1", input: "how are you today?" }],
    [
      "anthropic.messages",
      { model: "echo-1", max_tokens: 5, messages: [{ role: "user", content: "Ünïcödé 🎉" }] },
    ],
    ["google.generate", { contents: [{ role: "user", parts: [{ text: "gemini text" }] }] }],
    ["ollama.chat", { model: "llama3.2", messages: [{ role: "user", content: "local" }] }],
    ["ollama.generate", { model: "llama3.2", prompt: "gen", system: "s" }],
  ];

  it.each(cases)("%s", async (api, body) => {
    const streamed = echoRespond(api, body, true);
    const tap = createUsageTap(api);
    for (const byte of await collect(streamed.chunks)) tap.push(new Uint8Array([byte]));
    expect(tap.result()).toEqual(streamed.usage);
    expect(tap.streamError()).toBeUndefined();

    const plain = echoRespond(api, body, false);
    expect(usageFromBody(api, await collect(plain.chunks))).toEqual(plain.usage);
    expect(plain.usage).toEqual(streamed.usage);
    expect(plain.usage.estimated).toBe(false);
    expect(plain.usage.outputTokens).toBeGreaterThan(0);
  });

  it("gemini reports a model the caller put in the body", async () => {
    const out = echoRespond(
      "google.generate",
      { model: "echo-1-pro", contents: [{ parts: [{ text: "x" }] }] },
      false,
    );
    expect(JSON.parse(text(await collect(out.chunks)))).toMatchObject({ modelVersion: "echo-1-pro" });
    expect(out.usage.servedModel).toBe("echo-1-pro");
  });

  it("embeddings usage matches the body; errors record nothing", async () => {
    const out = echoRespond("openai.embeddings", { model: "echo-1", input: "abcdefgh" }, false);
    expect(usageFromBody("openai.embeddings", await collect(out.chunks))).toEqual(out.usage);
    expect(out.usage.inputTokens).toBe(2);
    const bad = echoRespond("google.generate", "nope", false);
    expect(bad.status).toBe(400);
    expect(JSON.parse(text(await collect(bad.chunks)))).toMatchObject({
      error: { code: 400, status: "INVALID_ARGUMENT" },
    });
    expect(bad.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });
});

describe("echo embeddings and token counts in Gemini and Ollama formats", () => {
  const json = async (out: EchoResponse): Promise<Record<string, unknown>> =>
    JSON.parse(text(await collect(out.chunks))) as Record<string, unknown>;

  it("one text gets the same vector in every family", async () => {
    const gemini = await json(
      echoRespond("google.embed", { content: { parts: [{ text: "hello" }] } }, false),
    );
    const ollama = await json(echoRespond("ollama.embed", { model: "nomic", input: "hello" }, false));
    const older = await json(echoRespond("ollama.embeddings", { model: "nomic", prompt: "hello" }, false));
    const openai = await json(
      echoRespond("openai.embeddings", { model: "echo-1", input: "hello", encoding_format: "float" }, false),
    );
    const values = (gemini.embedding as { values: number[] }).values;
    expect(values).toHaveLength(16);
    expect((ollama.embeddings as number[][])[0]).toEqual(values);
    expect(older.embedding).toEqual(values);
    expect((openai.data as { embedding: number[] }[])[0]?.embedding).toEqual(values);
  });

  it("batchEmbedContents answers one embedding per request, with its own dimensions", async () => {
    const out = echoRespond(
      "google.batch_embed",
      {
        requests: [
          { model: "models/echo-1", content: { parts: [{ text: "abcd" }] } },
          { model: "models/echo-1", content: { parts: [{ text: "efghijkl" }] }, outputDimensionality: 4 },
        ],
      },
      false,
    );
    const body = (await json(out)) as { embeddings: { values: number[] }[] };
    expect(body.embeddings.map((e) => e.values.length)).toEqual([16, 4]);
    // Gemini reports no counts; echo's own record does: 1 + 2 tokens.
    expect(out.usage).toMatchObject({ inputTokens: 3, outputTokens: 0, estimated: false });
  });

  it("countTokens counts contents, or a whole generateContentRequest, and consumes nothing", async () => {
    const contents = [{ role: "user", parts: [{ text: "twelve chars" }] }];
    for (const body of [{ contents }, { generateContentRequest: { model: "models/echo-1", contents } }]) {
      const out = echoRespond("google.count_tokens", body, false);
      expect(await json(out)).toEqual({
        totalTokens: 3,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 3 }],
      });
      expect(out.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    }
  });

  it("/api/embed takes a string or a list, and its usage is what the tap reads back", async () => {
    const out = echoRespond(
      "ollama.embed",
      { model: "nomic", input: ["abcd", "abcdefgh"], dimensions: 8 },
      false,
    );
    const body = (await json(out)) as { model: string; embeddings: number[][]; prompt_eval_count: number };
    expect(body.model).toBe("nomic");
    expect(body.embeddings.map((e) => e.length)).toEqual([8, 8]);
    expect(body.prompt_eval_count).toBe(3);
    expect(usageFromBody("ollama.embed", await collect(out.chunks))).toEqual(out.usage);
  });

  it("bad requests come back in each family's error shape", async () => {
    const gemini = echoRespond("google.embed", { content: "not a Content" }, false);
    expect(gemini.status).toBe(400);
    expect(await json(gemini)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
    const batch = echoRespond("google.batch_embed", { requests: [{ model: "models/echo-1" }] }, false);
    expect(batch.status).toBe(400);
    const ollama = echoRespond("ollama.embed", { model: "nomic", input: [1, 2] }, false);
    expect(ollama.status).toBe(400);
    expect(await json(ollama)).toEqual({ error: "input is required" });
    expect(echoRespond("ollama.embeddings", { model: "nomic" }, false).status).toBe(400);
  });
});
