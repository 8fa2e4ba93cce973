import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, candidateNames, createPricer } from "../../server/src/usage/pricing.js";

const tokens = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheWriteTokens,
});
const MILLION = tokens(1_000_000, 0);

describe("pricing", () => {
  const pricer = createPricer();

  it("prices exact model names from the built-in table", () => {
    expect(pricer.costFor("gpt-4o", "openai", tokens(1_000_000, 1_000_000))).toBeCloseTo(12.5, 10);
    expect(pricer.costFor("gpt-4o-mini", "openai", tokens(2_000_000, 500_000))).toBeCloseTo(0.3 + 0.3, 10);
    expect(pricer.costFor("text-embedding-3-small", "openai", MILLION)).toBeCloseTo(0.02, 10);
    expect(pricer.priceOf("claude-haiku-4-5")).toEqual({
      input: 1,
      output: 5,
      cacheRead: 0.1,
      cacheWrite: 1.25,
    });
  });

  it("bills cache reads and writes at their own prices", () => {
    const usage = tokens(1_000_000, 1_000_000, 1_000_000, 1_000_000);
    expect(pricer.costFor("claude-sonnet-4-5", "anthropic", usage)).toBeCloseTo(3 + 15 + 0.3 + 3.75, 10);
    expect(pricer.costFor("gpt-4.1", "openai", tokens(0, 0, 1_000_000))).toBeCloseTo(0.5, 10);
  });

  it("strips date and version suffixes", () => {
    expect(pricer.priceOf("claude-3-5-sonnet-20241022")).toBe(BUILTIN_PRICES["claude-3-5-sonnet"]);
    expect(pricer.priceOf("claude-sonnet-4-20250514")).toBe(BUILTIN_PRICES["claude-sonnet-4"]);
    expect(pricer.priceOf("claude-3-5-haiku-latest")).toBe(BUILTIN_PRICES["claude-3-5-haiku"]);
    expect(pricer.priceOf("gpt-4o-2024-08-06")).toBe(BUILTIN_PRICES["gpt-4o"]);
    expect(pricer.priceOf("gpt-3.5-turbo-0125")).toBe(BUILTIN_PRICES["gpt-3.5-turbo"]);
    expect(pricer.priceOf("gemini-1.5-pro-002")).toBe(BUILTIN_PRICES["gemini-1.5-pro"]);
    expect(pricer.priceOf("claude-3-5-sonnet@20240620")).toBe(BUILTIN_PRICES["claude-3-5-sonnet"]);
  });

  it("prefers an exact dated entry to its base model", () => {
    expect(pricer.priceOf("gpt-4o-2024-05-13")).toEqual({ input: 5, output: 15 });
  });

  it("strips provider/ prefixes and OpenRouter's dotted versions", () => {
    expect(pricer.priceOf("openai/gpt-4o-mini")).toBe(BUILTIN_PRICES["gpt-4o-mini"]);
    expect(pricer.priceOf("anthropic/claude-3.5-sonnet")).toBe(BUILTIN_PRICES["claude-3-5-sonnet"]);
    expect(pricer.priceOf("anthropic/claude-sonnet-4.5")).toBe(BUILTIN_PRICES["claude-sonnet-4-5"]);
    expect(pricer.priceOf("google/gemini-2.5-flash")).toBe(BUILTIN_PRICES["gemini-2.5-flash"]);
    expect(pricer.priceOf("models/gemini-2.5-pro")).toBe(BUILTIN_PRICES["gemini-2.5-pro"]);
    expect(pricer.priceOf("GPT-4.1")).toBe(BUILTIN_PRICES["gpt-4.1"]);
  });

  it("unknown models cost null, never 0", () => {
    expect(pricer.costFor("my-finetune-xyz", "openai", MILLION)).toBeNull();
    expect(pricer.costFor("meta-llama/llama-3.3-70b-instruct", "openai-compatible", MILLION)).toBeNull();
    expect(pricer.priceOf("my-finetune-xyz")).toBeUndefined();
    // Asking twice (memoised) gives the same answer.
    expect(pricer.costFor("my-finetune-xyz", "openai", MILLION)).toBeNull();
  });

  it("local providers (ollama, echo) cost 0, a known price", () => {
    expect(pricer.costFor("llama3.2", "ollama", MILLION)).toBe(0);
    expect(pricer.costFor("gpt-oss:20b", "ollama", MILLION)).toBe(0);
    expect(pricer.costFor("echo-1", "echo", MILLION)).toBe(0);
    // A built-in cloud price does not apply to a model served locally.
    expect(pricer.costFor("gpt-4o", "ollama", MILLION)).toBe(0);
  });

  it("overrides win over the built-in table, and price unknown and local models", () => {
    const custom = createPricer({
      "gpt-4o": { input: 1, output: 2 },
      "Acme-Large": { input: 4, output: 8, cacheRead: 1 },
      "llama3.2": { input: 0.5, output: 0.5 },
    });
    expect(custom.costFor("gpt-4o", "openai", tokens(1_000_000, 1_000_000))).toBeCloseTo(3, 10);
    expect(custom.costFor("gpt-4o-2024-11-20", "openai", MILLION)).toBeCloseTo(1, 10);
    expect(custom.costFor("acme/acme-large", "openai-compatible", tokens(0, 0, 1_000_000))).toBeCloseTo(
      1,
      10,
    );
    expect(custom.costFor("llama3.2", "ollama", MILLION)).toBeCloseTo(0.5, 10);
    expect(custom.costFor("gpt-4o-mini", "openai", MILLION)).toBeCloseTo(0.15, 10);
  });

  it("without cache prices, cached tokens are billed at the input price", () => {
    const custom = createPricer({ plain: { input: 2, output: 4 } });
    expect(custom.costFor("plain", "openai", tokens(0, 0, 1_000_000, 1_000_000))).toBeCloseTo(4, 10);
  });

  it("candidate names go from most to least specific", () => {
    expect(candidateNames("anthropic/claude-3.5-sonnet-20241022")).toEqual([
      "anthropic/claude-3.5-sonnet-20241022",
      "claude-3.5-sonnet-20241022",
      "claude-3.5-sonnet",
      "anthropic/claude-3-5-sonnet-20241022",
      "claude-3-5-sonnet-20241022",
      "claude-3-5-sonnet",
    ]);
  });

  it("every built-in price is a sane positive number", () => {
    for (const [model, price] of Object.entries(BUILTIN_PRICES)) {
      expect(price.input, model).toBeGreaterThan(0);
      expect(price.output, model).toBeGreaterThanOrEqual(0);
      if (price.cacheRead !== undefined) expect(price.cacheRead, model).toBeLessThan(price.input);
      if (price.cacheWrite !== undefined) expect(price.cacheWrite, model).toBeGreaterThan(price.input);
    }
  });
});
