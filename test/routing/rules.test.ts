// Routing rules as the setup guide describes them, run on the guide's own example configs
// (test/fixtures/configs, loaded unmodified; only provider base URLs point at the fake): the
// cost-optimization rules by maxTokens, the cloud + local hybrid by tag (header, key default,
// instance default), the fallback chain, and the solo-developer setup.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES, isRecord } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream, type ReceivedRequest } from "../fakes/server.js";
import {
  anthropicClient,
  attemptsOf,
  issueKey,
  openaiClient,
  provider,
  requestIdOf,
  startRoutingGateway,
  waitForRecord,
  type IssuedKey,
  type RoutingGateway,
} from "./harness.js";

const FIXTURES = join(fileURLToPath(new URL(".", import.meta.url)), "..", "fixtures", "configs");
const ANSWER = answerText(DEFAULT_PIECES);
const SONNET = "claude-3-5-sonnet-20241022";
const OPUS = "claude-3-opus-20240229";

function fixture(name: string): Record<string, unknown> {
  const v: unknown = JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));
  if (!isRecord(v)) throw new Error(`${name} is not a JSON object`);
  return v;
}

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake?.close());
beforeEach(() => fake.reset({ settings: true }));

/** The one inference request the fake received: which wire format, and which model. */
function served(): { route: ReceivedRequest["route"]; model: unknown } {
  const inference = fake.requests.filter(
    (r) => r.route === "anthropic.messages" || r.route === "ollama.chat" || r.route === "openai.chat",
  );
  expect(inference).toHaveLength(1);
  const r = inference[0]!;
  return { route: r.route, model: isRecord(r.body) ? r.body.model : undefined };
}

/** An Anthropic-SDK request with this max_tokens; returns keygate's request id. */
async function askWithMaxTokens(gw: RoutingGateway, key: IssuedKey, maxTokens: number, model = OPUS) {
  const { data, response } = await anthropicClient(gw, key)
    .messages.create({ model, max_tokens: maxTokens, messages: [{ role: "user", content: "Say hello" }] })
    .withResponse();
  expect(data.content).toEqual([expect.objectContaining({ type: "text", text: ANSWER })]);
  return requestIdOf(response.headers);
}

describe("guide: cost optimization (rules by maxTokens, first match wins)", () => {
  let gw: RoutingGateway;
  let key: IssuedKey;
  beforeAll(async () => {
    gw = await startRoutingGateway({
      providers: {
        anthropic: provider("anthropic", fake.url, [SONNET, OPUS], { default: true }),
        ollama: provider("ollama", fake.url, ["codellama:7b"]),
      },
      ...fixture("guide-routing-cost.json"),
    });
    key = await issueKey(gw.admin);
  });
  afterAll(() => gw?.dispose());

  const cases = [
    { maxTokens: 200, route: "ollama.chat", model: "codellama:7b", provider: "ollama" },
    { maxTokens: 500, route: "ollama.chat", model: "codellama:7b", provider: "ollama" },
    { maxTokens: 501, route: "anthropic.messages", model: SONNET, provider: "anthropic" },
    { maxTokens: 4000, route: "anthropic.messages", model: SONNET, provider: "anthropic" },
    { maxTokens: 4001, route: "anthropic.messages", model: OPUS, provider: "anthropic" },
    { maxTokens: 16000, route: "anthropic.messages", model: OPUS, provider: "anthropic" },
  ] as const;

  for (const c of cases) {
    it(`max_tokens ${c.maxTokens} → ${c.provider} ${c.model}`, async () => {
      const id = await askWithMaxTokens(gw, key, c.maxTokens);
      expect(served()).toEqual({ route: c.route, model: c.model });
      const rec = await waitForRecord(gw.admin, id);
      expect(rec.providerId).toBe(c.provider);
      expect(rec.servedModel).toBe(c.model);
      expect(rec.requestedModel).toBe(OPUS);
    });
  }

  it("a request without max_tokens (openai SDK) falls to the default rule → opus", async () => {
    const data = await openaiClient(gw, key).chat.completions.create({
      model: SONNET,
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(data.choices[0]!.message.content).toBe(ANSWER);
    expect(served()).toEqual({ route: "anthropic.messages", model: OPUS });
  });

  it("max_completion_tokens counts as the request's max tokens (openai SDK) → ollama", async () => {
    await openaiClient(gw, key).chat.completions.create({
      model: SONNET,
      max_completion_tokens: 300,
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(served()).toEqual({ route: "ollama.chat", model: "codellama:7b" });
  });
});

describe("guide: cloud + local hybrid (rules by tag)", () => {
  let gw: RoutingGateway;
  beforeAll(async () => {
    gw = await startRoutingGateway({
      providers: {
        anthropic: provider("anthropic", fake.url, [SONNET]),
        ollama: provider("ollama", fake.url, ["codellama:34b"]),
      },
      ...fixture("guide-routing-hybrid.json"),
    });
  });
  afterAll(() => gw?.dispose());

  async function ask(key: IssuedKey, headerTag?: string) {
    const headers: Record<string, string> = headerTag ? { "x-keygate-tag": headerTag } : {};
    const { response } = await anthropicClient(gw, key, headers)
      .messages.create({ model: SONNET, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] })
      .withResponse();
    const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
    return { ...served(), provider: rec.providerId };
  }

  const LOCAL = { route: "ollama.chat", model: "codellama:34b", provider: "ollama" };
  const CLOUD = { route: "anthropic.messages", model: SONNET, provider: "anthropic" };

  it("x-keygate-tag: development → the local ollama", async () => {
    expect(await ask(await issueKey(gw.admin), "development")).toEqual(LOCAL);
  });

  it("x-keygate-tag: production → anthropic", async () => {
    expect(await ask(await issueKey(gw.admin), "production")).toEqual(CLOUD);
  });

  it("no tag → no rule matches; the provider listing the model serves it", async () => {
    expect(await ask(await issueKey(gw.admin))).toEqual(CLOUD);
  });

  it("the tag header is never forwarded upstream", async () => {
    await ask(await issueKey(gw.admin), "production");
    expect(fake.requests[0]!.headers["x-keygate-tag"]).toBeUndefined();
  });

  it("a key's default tag (CreateKey tag) routes without a header", async () => {
    expect(await ask(await issueKey(gw.admin, { keyTag: "development" }))).toEqual(LOCAL);
  });

  it("an instance's default tag routes its keys without a header", async () => {
    expect(await ask(await issueKey(gw.admin, { instanceTag: "development" }))).toEqual(LOCAL);
  });

  it("precedence: header over the key's tag, the key's tag over the instance's", async () => {
    const both = await issueKey(gw.admin, { keyTag: "production", instanceTag: "development" });
    expect(await ask(both)).toEqual(CLOUD);
    fake.reset();
    expect(await ask(both, "development")).toEqual(LOCAL);
  });
});

describe("guide: fallback chain (strategy fallback, chain anthropic → openai → ollama)", () => {
  let gw: RoutingGateway;
  let key: IssuedKey;
  beforeAll(async () => {
    gw = await startRoutingGateway({
      providers: {
        anthropic: provider("anthropic", fake.url, [SONNET]),
        openai: provider("openai", fake.url, ["gpt-4o"]),
        ollama: provider("ollama", fake.url, ["codellama:34b"]),
      },
      ...fixture("guide-routing-fallback.json"),
    });
    key = await issueKey(gw.admin);
  });
  afterAll(() => gw?.dispose());

  async function ask(): Promise<string[]> {
    const { response } = await anthropicClient(gw, key)
      .messages.create({ model: SONNET, max_tokens: 100, messages: [{ role: "user", content: "Say hello" }] })
      .withResponse();
    const rec = await waitForRecord(gw.admin, requestIdOf(response.headers));
    expect(rec.statusCode).toBe(200);
    return attemptsOf(rec).map((a) => `${a.provider}:${a.status}`);
  }

  it("anthropic is tried first", async () => {
    expect(await ask()).toEqual(["anthropic:200"]);
  });

  it("anthropic returns errors → openai answers", async () => {
    fake.fail({ status: 500, on: "anthropic.messages", times: Infinity });
    const attempts = await ask();
    expect(attempts.at(-1)).toBe("openai:200");
    expect(attempts.slice(0, -1).every((a) => a === "anthropic:500")).toBe(true);
    expect(fake.requests.some((r) => r.route === "ollama.chat")).toBe(false);
  });

  it("openai fails too → the local ollama handles it as a last resort", async () => {
    fake.fail({ status: 500, on: "anthropic.messages", times: Infinity });
    fake.fail({ status: 503, on: "openai.chat", times: Infinity });
    const attempts = await ask();
    expect(attempts.at(-1)).toBe("ollama:200");
    expect(new Set(attempts.slice(0, -1))).toEqual(new Set(["anthropic:500", "openai:503"]));
  });
});

describe("guide: solo developer (anthropic default, local ollama fallback)", () => {
  const ANTHROPIC_API_KEY = "sk-ant-solo-developer-test";
  let gw: RoutingGateway;
  let key: IssuedKey;
  beforeAll(async () => {
    const config = fixture("guide-solo-developer.json");
    const providers = config.providers as Record<string, Record<string, unknown>>;
    for (const p of Object.values(providers)) p.baseUrl = fake.url;
    gw = await startRoutingGateway(config, { env: { ANTHROPIC_API_KEY } });
    key = await issueKey(gw.admin);
  });
  afterAll(() => gw?.dispose());
  beforeEach(() => fake.expectCredential("anthropic", ANTHROPIC_API_KEY));

  it("claude-3-5-sonnet goes to anthropic with the key from ${ANTHROPIC_API_KEY}", async () => {
    const id = await askWithMaxTokens(gw, key, 1000, SONNET);
    expect(served()).toEqual({ route: "anthropic.messages", model: SONNET });
    expect(fake.requests[0]!.headers["x-api-key"]).toBe(ANTHROPIC_API_KEY);
    expect((await waitForRecord(gw.admin, id)).fallback).toBe(false);
  });

  it("a model no provider lists goes to the default provider (anthropic)", async () => {
    await askWithMaxTokens(gw, key, 1000, "claude-3-7-sonnet-latest");
    expect(served()).toEqual({ route: "anthropic.messages", model: "claude-3-7-sonnet-latest" });
  });

  it("codellama:13b goes to the local ollama", async () => {
    const data = await openaiClient(gw, key).chat.completions.create({
      model: "codellama:13b",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(data.choices[0]!.message.content).toBe(ANSWER);
    expect(served()).toEqual({ route: "ollama.chat", model: "codellama:13b" });
  });

  it("the Anthropic API is down → keep working on the local ollama", async () => {
    fake.fail({ status: 529, on: "anthropic.messages", times: Infinity });
    const id = await askWithMaxTokens(gw, key, 1000, SONNET);
    const ollama = fake.requests.filter((r) => r.route === "ollama.chat");
    expect(ollama).toHaveLength(1);
    expect(isRecord(ollama[0]!.body) && ollama[0]!.body.model).toBe("codellama:13b");
    const rec = await waitForRecord(gw.admin, id);
    expect(rec.fallback).toBe(true);
    expect(rec.providerId).toBe("ollama");
    expect(rec.servedModel).toBe("codellama:13b");
  });
});
