// The first-run walkthrough: a gateway started with no config file serves the in-process echo
// provider, so a curl-style request and the openai SDK work without any real API key.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { readSse } from "../fakes/sse-reader.js";
import { issueKey, requestIdOf, tokensOf, waitForRecord, type IssuedKey } from "./harness.js";

let gw: TestGateway;
let key: IssuedKey;

beforeAll(async () => {
  gw = await startTestGateway();
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.close();
});

describe("echo provider, no configuration", () => {
  it("answers a curl-style request", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key.secret}` },
      body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "Hello, keygate!" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-keygate-overhead-ms")).not.toBeNull();
    const body = (await res.json()) as {
      object: string;
      choices: { message: { role: string; content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]?.message).toMatchObject({ role: "assistant", content: "echo: Hello, keygate!" });

    const rec = await waitForRecord(gw.admin, key.instanceId, requestIdOf(res.headers));
    expect(rec.providerId).toBe("echo");
    expect(rec.requestedModel).toBe("echo-1");
    expect(rec.statusCode).toBe(200);
    expect(tokensOf(rec)).toMatchObject({
      input: body.usage.prompt_tokens,
      output: body.usage.completion_tokens,
    });
    // The demo costs nothing, and says so (a known 0, not an unknown price).
    expect(rec.costUsd).toBe(0);
  });

  it("answers the openai SDK, plain and streamed", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });
    const plain = await client.chat.completions.create({
      model: "echo-1",
      messages: [{ role: "user", content: "ping" }],
    });
    expect(plain.choices[0]?.message.content).toBe("echo: ping");

    const { data: stream, response } = await client.chat.completions
      .create({ model: "echo-1", stream: true, messages: [{ role: "user", content: "stream this please" }] })
      .withResponse();
    let text = "";
    for await (const c of stream) {
      expect(c.usage ?? null).toBeNull();
      text += c.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe("echo: stream this please");
    const rec = await waitForRecord(gw.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.stream).toBe(true);
    expect(rec.ttfbMs).toBeDefined();
    expect(Number(rec.outputTokens)).toBeGreaterThan(0);

    const models = await client.models.list();
    const echo = models.data.find((m) => m.id === "echo-1");
    expect(echo?.owned_by).toMatch(/demo/i);
  });

  it("streams a curl-style SSE answer", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key.secret}` },
      body: JSON.stringify({
        model: "echo-1",
        stream: true,
        messages: [{ role: "user", content: "one two" }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = readSse(await res.text());
    expect(events.at(-1)?.data).toBe("[DONE]");
  });

  it("answers the anthropic SDK too", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: key.secret, maxRetries: 0 });
    const msg = await client.messages.create({
      model: "echo-1",
      max_tokens: 64,
      messages: [{ role: "user", content: "hello from claude code" }],
    });
    const first = msg.content[0];
    expect(first?.type === "text" ? first.text : undefined).toBe("echo: hello from claude code");
    const streamed = await client.messages
      .stream({ model: "echo-1", max_tokens: 64, messages: [{ role: "user", content: "and streamed" }] })
      .finalText();
    expect(streamed).toBe("echo: and streamed");
  });
});
