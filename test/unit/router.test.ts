import { describe, expect, it } from "vitest";
import { createRouter, weightedOrder, type RoutableProvider } from "../../server/src/routing/router.js";

const p = (
  id: string,
  type: RoutableProvider["type"],
  models: string[],
  isDefault = false,
  weight = 1,
): RoutableProvider => ({
  id,
  type,
  models,
  isDefault,
  weight,
});

const anthropic = p("anthropic", "anthropic", ["claude-3-5-sonnet-20241022", "claude-3-opus-20240229"], true);
const openai = p("openai", "openai", ["gpt-4o", "gpt-4-turbo"]);
const ollama = p("ollama", "ollama", ["codellama:13b"]);
const openrouter = p("openrouter", "openai-compatible", ["anthropic/claude-3.5-sonnet", "openai/gpt-4o"]);
const all = [anthropic, openai, ollama, openrouter];
const none = { rules: [], aliases: {}, chain: [] };

describe("router", () => {
  it("resolves a model through the providers' model lists", () => {
    const r = createRouter(all, none);
    expect(r.resolve({ model: "gpt-4o", maxTokens: undefined, tag: "" }).map((t) => t.provider.id)).toEqual([
      "openai",
    ]);
    // OpenRouter-style names are listed models first, not provider prefixes.
    expect(r.resolve({ model: "openai/gpt-4o", maxTokens: undefined, tag: "" })[0]).toMatchObject({
      provider: { id: "openrouter" },
      model: "openai/gpt-4o",
    });
  });

  it("resolves provider/model for unlisted models, then falls to the default provider", () => {
    const r = createRouter(all, none);
    expect(r.resolve({ model: "ollama/llama3", maxTokens: undefined, tag: "" })[0]).toMatchObject({
      provider: { id: "ollama" },
      model: "llama3",
    });
    expect(r.resolve({ model: "something-else", maxTokens: undefined, tag: "" })[0]?.provider.id).toBe(
      "anthropic",
    );
    const noDefault = createRouter([openai], none);
    expect(noDefault.resolve({ model: "something-else", maxTokens: undefined, tag: "" })).toEqual([]);
  });

  it("follows the guide's fallback chain after the primary", () => {
    const r = createRouter(all, {
      rules: [],
      aliases: {},
      strategy: "fallback",
      chain: ["anthropic", "openai", "ollama"],
    });
    const t = r.resolve({ model: "claude-3-5-sonnet-20241022", maxTokens: undefined, tag: "" });
    expect(t.map((x) => [x.provider.id, x.model])).toEqual([
      ["anthropic", "claude-3-5-sonnet-20241022"],
      ["openai", "gpt-4o"],
      ["ollama", "codellama:13b"],
    ]);
  });

  it("evaluates the guide's cost rules top to bottom, first match wins", () => {
    const rules = [
      { match: { maxTokens: 500 }, provider: "ollama", model: "codellama:7b" },
      { match: { maxTokens: 4000 }, provider: "anthropic", model: "claude-3-5-sonnet-20241022" },
      { match: { default: true }, provider: "anthropic", model: "claude-3-opus-20240229" },
    ];
    const r = createRouter(all, { rules, aliases: {}, chain: [] });
    const pick = (maxTokens: number | undefined) => r.resolve({ model: "gpt-4o", maxTokens, tag: "" })[0];
    expect(pick(200)).toMatchObject({ provider: { id: "ollama" }, model: "codellama:7b" });
    expect(pick(500)).toMatchObject({ provider: { id: "ollama" } });
    expect(pick(501)).toMatchObject({ provider: { id: "anthropic" }, model: "claude-3-5-sonnet-20241022" });
    expect(pick(100_000)).toMatchObject({ model: "claude-3-opus-20240229" });
    expect(pick(undefined)).toMatchObject({ model: "claude-3-opus-20240229" });
  });

  it("routes by tag as in the guide's hybrid example", () => {
    const rules = [
      { match: { tag: "development" }, provider: "ollama" },
      { match: { tag: "production" }, provider: "anthropic" },
    ];
    const r = createRouter(all, { rules, aliases: {}, chain: [] });
    expect(r.resolve({ model: "gpt-4o", maxTokens: undefined, tag: "development" })[0]).toMatchObject({
      provider: { id: "ollama" },
      model: "codellama:13b",
    });
    expect(r.resolve({ model: "gpt-4o", maxTokens: undefined, tag: "production" })[0]?.provider.id).toBe(
      "anthropic",
    );
    expect(r.resolve({ model: "gpt-4o", maxTokens: undefined, tag: "" })[0]?.provider.id).toBe("openai");
  });

  it("matches model globs and aliases", () => {
    const r = createRouter(all, {
      rules: [{ match: { model: "claude-*" }, provider: "openrouter", model: "anthropic/claude-3.5-sonnet" }],
      aliases: { smart: [{ provider: "openai", model: "gpt-4o", weight: 1 }] },
      chain: [],
    });
    expect(
      r.resolve({ model: "claude-3-opus-20240229", maxTokens: undefined, tag: "" })[0]?.provider.id,
    ).toBe("openrouter");
    expect(r.resolve({ model: "smart", maxTokens: undefined, tag: "" })[0]).toMatchObject({
      provider: { id: "openai" },
      model: "gpt-4o",
    });
    expect(r.models().map((m) => m.id)).toContain("smart");
  });

  it("orders by weight", () => {
    const items = [
      { id: "a", w: 1 },
      { id: "b", w: 3 },
    ];
    // rand() = 0.5 of total 4 → 2 falls in b's share (1..4).
    expect(
      weightedOrder(
        items,
        (x) => x.w,
        () => 0.5,
      ).map((x) => x.id),
    ).toEqual(["b", "a"]);
    expect(
      weightedOrder(
        items,
        (x) => x.w,
        () => 0.1,
      ).map((x) => x.id),
    ).toEqual(["a", "b"]);
  });
});
