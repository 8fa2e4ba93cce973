// Ollama /api/chat and /api/generate NDJSON (streaming by default), read with plain fetch.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES } from "./content.js";
import { startFakeUpstream } from "./server.js";
import type { FakeUpstream } from "./server.js";

let fake: FakeUpstream;

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset({ settings: true }));

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

const chatBody = { model: "llama3.2", messages: [{ role: "user", content: "Say hello" }] };

function lines(text: string): Record<string, unknown>[] {
  expect(text.endsWith("\n")).toBe(true);
  return text
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("chat", () => {
  it("streams NDJSON by default, ending in a done object with the counters", async () => {
    fake.setUsage("ollama", { input: 26, output: 282 });
    const res = await post("/api/chat", chatBody);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const objs = lines(await res.text());
    expect(objs).toHaveLength(DEFAULT_PIECES + 1);
    const partial = objs.slice(0, -1);
    expect(partial.every((o) => o.done === false && o.model === "llama3.2")).toBe(true);
    const text = partial.map((o) => (o.message as { content: string }).content).join("");
    expect(text).toBe(answerText(DEFAULT_PIECES));
    const last = objs[objs.length - 1];
    expect(last).toMatchObject({ done: true, done_reason: "stop", prompt_eval_count: 26, eval_count: 282 });
    for (const k of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"]) {
      expect(typeof last?.[k]).toBe("number");
    }
    expect(fake.requests[0]).toMatchObject({ route: "ollama.chat", stream: true });
  });

  it("answers one object when stream is false", async () => {
    fake.setUsage("ollama", { input: 3, output: 4 });
    const res = await post("/api/chat", { ...chatBody, stream: false });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({
      model: "llama3.2",
      message: { role: "assistant", content: answerText(DEFAULT_PIECES) },
      done: true,
      done_reason: "stop",
      prompt_eval_count: 3,
      eval_count: 4,
    });
  });
});

describe("generate and tags", () => {
  it("streams /api/generate with response pieces and a final context", async () => {
    fake.streamChunks(2);
    const objs = lines(await (await post("/api/generate", { model: "llama3.2", prompt: "hi" })).text());
    expect(objs.map((o) => o.response).join("")).toBe(answerText(2));
    expect(objs[objs.length - 1]).toMatchObject({ done: true, response: "", context: [1, 2, 3] });
  });

  it("lists local models", async () => {
    const res = await fetch(`${fake.url}/api/tags`);
    const body = (await res.json()) as { models: { name: string; details: { format: string } }[] };
    expect(body.models.map((m) => m.name)).toEqual(["llama3.2:latest", "qwen2.5:0.5b"]);
    expect(body.models[0]?.details.format).toBe("gguf");
  });
});

describe("embeddings", () => {
  it("/api/embed answers one vector per input with prompt_eval_count; /api/embeddings one, with no counts", async () => {
    fake.setUsage("ollama", { input: 8, output: 0 });
    const res = await post("/api/embed", { model: "nomic-embed-text", input: ["a", "b"] });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ model: "nomic-embed-text", prompt_eval_count: 8 });
    expect(body.embeddings).toHaveLength(2);
    expect(Object.keys(body).sort()).toEqual(
      ["embeddings", "load_duration", "model", "prompt_eval_count", "total_duration"].sort(),
    );
    const older = (await (
      await post("/api/embeddings", { model: "nomic-embed-text", prompt: "a" })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(older)).toEqual(["embedding"]);
  });
});

describe("errors", () => {
  it("answers { error } bodies", async () => {
    const noModel = await post("/api/chat", { messages: [] });
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toEqual({ error: "model is required" });
    fake.fail({ status: 404, on: "ollama.chat" });
    const missing = await post("/api/chat", { ...chatBody, model: "nope" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'model "nope" not found, try pulling it first' });
  });

  it("needs no credential unless one is expected, then wants it as Bearer", async () => {
    expect((await post("/api/chat", { ...chatBody, stream: false })).status).toBe(200);
    fake.expectCredential("ollama", "proxy-secret");
    const refused = await post("/api/chat", { ...chatBody, stream: false });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "unauthorized" });
    const ok = await post(
      "/api/chat",
      { ...chatBody, stream: false },
      { authorization: "Bearer proxy-secret" },
    );
    expect(ok.status).toBe(200);
  });
});
