// bench/upstream.ts: the fixed-answer benchmark upstream, in its own process.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleEntry } from "./bundle.js";
import type { Bundle } from "./bundle.js";
import { spawnListening } from "./remote.js";
import type { Listening } from "./remote.js";
import { readSse } from "./sse-reader.js";

let bundle: Bundle;
let upstream: Listening;
let paced: Listening;
let client: OpenAI;

beforeAll(async () => {
  bundle = await bundleEntry("bench/upstream.ts");
  upstream = await spawnListening(bundle.file, ["--port", "0", "--chunks", "4"]);
  paced = await spawnListening(bundle.file, ["--chunks", "3", "--chunk-delay-ms", "30"]);
  client = new OpenAI({ apiKey: "x", baseURL: `${upstream.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await upstream?.stop();
  await paced?.stop();
  await bundle?.remove();
});

describe("bench upstream", () => {
  it("answers a fixed chat.completion the openai SDK accepts", async () => {
    const res = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.object).toBe("chat.completion");
    expect(res.usage?.completion_tokens).toBe(4);
  });

  it("streams --chunks content chunks, then the usage chunk and [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.filter((c) => c.choices[0]?.delta.content)).toHaveLength(4);
    expect(chunks[chunks.length - 1]?.usage?.total_tokens).toBe(16);
  });

  it("detects the spaced form of stream: true and paces chunks with --chunk-delay-ms", async () => {
    const t0 = performance.now();
    const res = await fetch(`${paced.url}/v1/chat/completions`, {
      method: "POST",
      body: '{"model": "m", "stream": true, "messages": []}',
    });
    const events = readSse(await res.text());
    expect(performance.now() - t0).toBeGreaterThanOrEqual(5 * 30 - 5);
    expect(events).toHaveLength(7);
    expect(events[6]?.data).toBe("[DONE]");
  });
});
