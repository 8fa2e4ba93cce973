// The fake as its own process: started by serve.ts, driven through the /__fake/* control API.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bundleEntry } from "./bundle.js";
import type { Bundle } from "./bundle.js";
import { spawnFakeUpstream } from "./remote.js";
import type { SpawnedFake } from "./remote.js";

let bundle: Bundle;
let fake: SpawnedFake;
let client: OpenAI;

beforeAll(async () => {
  bundle = await bundleEntry("test/fakes/serve.ts");
  fake = await spawnFakeUpstream({ entry: bundle.file });
  client = new OpenAI({ apiKey: "sk-real", baseURL: `${fake.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await fake?.stop();
  await bundle?.remove();
});
beforeEach(() => fake.client.reset({ settings: true }));

const ask = () =>
  client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

describe("serve.ts", () => {
  it("prints its URL and serves the formats", async () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await ask();
    expect(res.object).toBe("chat.completion");
  });

  it("records requests and exposes them on GET /__fake/requests, without the control calls", async () => {
    await ask();
    const seen = await fake.client.requests();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      route: "openai.chat",
      method: "POST",
      headers: { authorization: "Bearer sk-real" },
    });
  });

  it("sets usage and queues failures over HTTP", async () => {
    await fake.client.setUsage("openai", { input: 3, output: 4 });
    expect((await ask()).usage?.total_tokens).toBe(7);
    await fake.client.fail({ status: 429, retryAfter: 5, times: "always", on: "openai.chat" });
    for (let i = 0; i < 2; i++) {
      const err = await ask().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    }
    await fake.client.reset();
    expect((await ask()).object).toBe("chat.completion");
  });

  it("expects credentials and forces tool calls over HTTP", async () => {
    await fake.client.expectCredential("openai", "sk-other");
    expect(await ask().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    await fake.client.expectCredential("openai", undefined);
    await fake.client.toolCalls(2);
    expect((await ask()).choices[0]?.message.tool_calls).toHaveLength(2);
  });

  it("rejects malformed control calls with 400", async () => {
    const res = await fetch(`${fake.url}/__fake/fail`, {
      method: "POST",
      body: JSON.stringify({ status: 200 }),
    });
    expect(res.status).toBe(400);
    const unknown = await fetch(`${fake.url}/__fake/nope`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
  });

  it("exits on SIGTERM", async () => {
    const other = await spawnFakeUpstream({ entry: bundle.file });
    await other.stop();
    expect(other.child.exitCode).toBe(0);
  });
});
