// Aliases (from the config file and created through SetAlias), weighted load balancing between
// providers that list the same model, and routing rules created through the Admin API taking
// effect on the very next request (the change notification rebuilds the router).
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { answerText, DEFAULT_PIECES, isRecord } from "../fakes/content.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import { RouteSource } from "../../sdk/index.js";
import {
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
const KEY_A = "sk-weight-three";
const KEY_B = "sk-weight-one";

let fake: FakeUpstream;
let gw: RoutingGateway;
let key: IssuedKey;

beforeAll(async () => {
  fake = await startFakeUpstream();
  gw = await startRoutingGateway({
    providers: {
      a: provider("openai", fake.url, [MODELS.openai], { apiKey: KEY_A, weight: 3 }),
      b: provider("openai", fake.url, [MODELS.openai], { apiKey: KEY_B, weight: 1 }),
      anthropic: provider("anthropic", fake.url, [MODELS.anthropic]),
      ollama: provider("ollama", fake.url, [MODELS.ollama]),
    },
    routing: { aliases: { fast: [{ provider: "b", model: "gpt-4o-mini" }] } },
  });
  key = await issueKey(gw.admin);
});
afterAll(async () => {
  await gw?.dispose();
  await fake?.close();
});
beforeEach(() => fake.reset({ settings: true }));

/** Which configured provider a recorded upstream request came from, by the credential it carried. */
function providerOf(headers: Record<string, string>): string {
  if (headers.authorization === `Bearer ${KEY_A}`) return "a";
  if (headers.authorization === `Bearer ${KEY_B}`) return "b";
  if (headers["x-api-key"]) return "anthropic";
  return "ollama";
}

/** The single inference request the fake received: provider, wire route and model. */
function served(): { provider: string; route: string | undefined; model: unknown } {
  expect(fake.requests).toHaveLength(1);
  const r = fake.requests[0]!;
  return {
    provider: providerOf(r.headers),
    route: r.route,
    model: isRecord(r.body) ? r.body.model : undefined,
  };
}

async function chat(model: string, headers: Record<string, string> = {}): Promise<string> {
  const { data, response } = await openaiClient(gw, key, headers)
    .chat.completions.create({ model, messages: [{ role: "user", content: "Say hello" }] })
    .withResponse();
  expect(data.choices[0]!.message.content).toBe(ANSWER);
  return requestIdOf(response.headers);
}

describe("aliases", () => {
  it("an alias from the config file routes to its target and renames the model", async () => {
    const id = await chat("fast");
    expect(served()).toEqual({ provider: "b", route: "openai.chat", model: "gpt-4o-mini" });
    const rec = await waitForRecord(gw.admin, id);
    expect(rec.requestedModel).toBe("fast");
    expect(rec.servedModel).toBe("gpt-4o-mini");
    expect(rec.providerId).toBe("b");
    const listed = (await gw.admin.listAliases({})).aliases.find((a) => a.name === "fast");
    expect(listed?.source).toBe(RouteSource.CONFIG);
  });

  it("an alias created with SetAlias routes the next request (here across wire formats)", async () => {
    await gw.admin.setAlias({
      alias: { name: "smart", targets: [{ providerId: "anthropic", model: MODELS.anthropic }] },
    });
    const id = await chat("smart");
    expect(served()).toEqual({ provider: "anthropic", route: "anthropic.messages", model: MODELS.anthropic });
    const rec = await waitForRecord(gw.admin, id);
    expect(rec.requestedModel).toBe("smart");
    expect(rec.providerId).toBe("anthropic");

    // Re-pointing the alias is just as immediate.
    await gw.admin.setAlias({
      alias: { name: "smart", targets: [{ providerId: "ollama", model: MODELS.ollama }] },
    });
    fake.reset();
    await chat("smart");
    expect(served()).toEqual({ provider: "ollama", route: "ollama.chat", model: MODELS.ollama });
  });

  it("a config alias is read-only through the Admin API", async () => {
    const err = await gw.admin
      .setAlias({ alias: { name: "fast", targets: [{ providerId: "a", model: MODELS.openai }] } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    await chat("fast");
    expect(served().provider).toBe("b");
  });
});

describe("weighted load balancing", () => {
  it("two providers listing the same model with weights 3:1 share 200 requests roughly 3:1", async () => {
    const total = 200;
    const concurrency = 8;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        next++;
        await openaiClient(gw, key).chat.completions.create({
          model: MODELS.openai,
          messages: [{ role: "user", content: "Say hello" }],
        });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const counts = { a: 0, b: 0, other: 0 };
    for (const r of fake.requests) {
      const p = providerOf(r.headers);
      if (p === "a" || p === "b") counts[p]++;
      else counts.other++;
    }
    expect(counts.a + counts.b).toBe(total);
    expect(counts.other).toBe(0);
    // Expected 150:50; the standard deviation is about 6, so this bound is about ±5 of them.
    expect(counts.a).toBeGreaterThanOrEqual(120);
    expect(counts.a).toBeLessThanOrEqual(180);
  });
});

describe("routes created through the Admin API", () => {
  it("CreateRoute takes effect on the next request; DeleteRoute undoes it", async () => {
    await chat(MODELS.openai, { "x-keygate-tag": "canary" });
    expect(["a", "b"]).toContain(served().provider);

    const created = await gw.admin.createRoute({
      route: { priority: 5, match: { tag: "canary" }, providerId: "ollama", model: MODELS.ollama },
    });
    const routeId = created.route?.id;
    if (!routeId) throw new Error("CreateRoute returned no route id");
    fake.reset();
    const id = await chat(MODELS.openai, { "x-keygate-tag": "canary" });
    expect(served()).toEqual({ provider: "ollama", route: "ollama.chat", model: MODELS.ollama });
    const rec = await waitForRecord(gw.admin, id);
    expect(rec.providerId).toBe("ollama");
    expect(rec.servedModel).toBe(MODELS.ollama);

    // Requests that don't match the new rule are unaffected.
    fake.reset();
    await chat(MODELS.openai);
    expect(["a", "b"]).toContain(served().provider);

    const listed = (await gw.admin.listRoutes({})).routes.find((r) => r.id === routeId);
    expect(listed).toMatchObject({ providerId: "ollama", source: RouteSource.API });

    await gw.admin.deleteRoute({ id: routeId });
    fake.reset();
    await chat(MODELS.openai, { "x-keygate-tag": "canary" });
    expect(["a", "b"]).toContain(served().provider);
  });

  it("an API route by maxTokens sits among the rules by priority", async () => {
    const created = await gw.admin.createRoute({
      route: { priority: 1, match: { maxTokens: 100n }, providerId: "anthropic", model: MODELS.anthropic },
    });
    try {
      fake.reset();
      await openaiClient(gw, key).chat.completions.create({
        model: MODELS.openai,
        max_tokens: 50,
        messages: [{ role: "user", content: "Say hello" }],
      });
      expect(served()).toEqual({
        provider: "anthropic",
        route: "anthropic.messages",
        model: MODELS.anthropic,
      });
      fake.reset();
      await openaiClient(gw, key).chat.completions.create({
        model: MODELS.openai,
        max_tokens: 101,
        messages: [{ role: "user", content: "Say hello" }],
      });
      expect(["a", "b"]).toContain(served().provider);
    } finally {
      await gw.admin.deleteRoute({ id: created.route!.id });
    }
  });
});
