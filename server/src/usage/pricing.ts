// Cost of a request from its token usage. Prices are USD per million tokens.
//
// Built-in prices (standard tier, prompts up to the long-context threshold), taken from:
//   OpenAI     https://platform.openai.com/docs/pricing
//   Anthropic  https://platform.claude.com/docs/en/about-claude/pricing (cache write = 5-minute rate)
//   Google     https://ai.google.dev/gemini-api/docs/pricing (paid tier, prompts <= 200k tokens)
// Operators override or extend them with the config's `pricing` section.
import type { PriceConfig, ProviderType } from "../config/types.js";
import type { TokenUsage } from "./record.js";

const p = (input: number, output: number, cacheRead?: number, cacheWrite?: number): PriceConfig => {
  const price: PriceConfig = { input, output };
  if (cacheRead !== undefined) price.cacheRead = cacheRead;
  if (cacheWrite !== undefined) price.cacheWrite = cacheWrite;
  return Object.freeze(price);
};

export const BUILTIN_PRICES: Readonly<Record<string, PriceConfig>> = Object.freeze({
  // OpenAI: cached input is the cache-read price; OpenAI does not bill cache writes.
  "gpt-5": p(1.25, 10, 0.125),
  "gpt-5.1": p(1.25, 10, 0.125),
  "gpt-5-mini": p(0.25, 2, 0.025),
  "gpt-5-nano": p(0.05, 0.4, 0.005),
  "gpt-5-pro": p(15, 120),
  "gpt-5-codex": p(1.25, 10, 0.125),
  "gpt-4.1": p(2, 8, 0.5),
  "gpt-4.1-mini": p(0.4, 1.6, 0.1),
  "gpt-4.1-nano": p(0.1, 0.4, 0.025),
  "gpt-4o": p(2.5, 10, 1.25),
  "gpt-4o-2024-05-13": p(5, 15),
  "gpt-4o-mini": p(0.15, 0.6, 0.075),
  "gpt-4-turbo": p(10, 30),
  "gpt-4": p(30, 60),
  "gpt-3.5-turbo": p(0.5, 1.5),
  o1: p(15, 60, 7.5),
  "o1-mini": p(1.1, 4.4, 0.55),
  "o1-pro": p(150, 600),
  o3: p(2, 8, 0.5),
  "o3-mini": p(1.1, 4.4, 0.55),
  "o3-pro": p(20, 80),
  "o4-mini": p(1.1, 4.4, 0.275),
  "text-embedding-3-small": p(0.02, 0),
  "text-embedding-3-large": p(0.13, 0),
  "text-embedding-ada-002": p(0.1, 0),

  // Anthropic: cache read 0.1x input, cache write (5 minutes) 1.25x input.
  "claude-opus-4-5": p(5, 25, 0.5, 6.25),
  "claude-opus-4-1": p(15, 75, 1.5, 18.75),
  "claude-opus-4": p(15, 75, 1.5, 18.75),
  "claude-opus-4-0": p(15, 75, 1.5, 18.75),
  "claude-sonnet-4-5": p(3, 15, 0.3, 3.75),
  "claude-sonnet-4": p(3, 15, 0.3, 3.75),
  "claude-sonnet-4-0": p(3, 15, 0.3, 3.75),
  "claude-3-7-sonnet": p(3, 15, 0.3, 3.75),
  "claude-3-5-sonnet": p(3, 15, 0.3, 3.75),
  "claude-haiku-4-5": p(1, 5, 0.1, 1.25),
  "claude-3-5-haiku": p(0.8, 4, 0.08, 1),
  "claude-3-opus": p(15, 75, 1.5, 18.75),
  "claude-3-haiku": p(0.25, 1.25, 0.03, 0.3),

  // Google Gemini: cache read is the context-caching price (storage is billed separately).
  "gemini-2.5-pro": p(1.25, 10, 0.125),
  "gemini-2.5-flash": p(0.3, 2.5, 0.03),
  "gemini-2.5-flash-lite": p(0.1, 0.4, 0.01),
  "gemini-2.0-flash": p(0.1, 0.4, 0.025),
  "gemini-2.0-flash-lite": p(0.075, 0.3),
  "gemini-1.5-pro": p(1.25, 5, 0.3125),
  "gemini-1.5-flash": p(0.075, 0.3, 0.01875),
  "gemini-1.5-flash-8b": p(0.0375, 0.15, 0.01),
  // Embeddings: input only (Gemini's answers carry no counts; keygate estimates them from the text).
  "gemini-embedding-001": p(0.15, 0),
});

/** Local providers: every model is free, a known price rather than an unknown one. */
const FREE_TYPES: ReadonlySet<ProviderType> = new Set(["ollama", "echo"]);

const SUFFIXES = [
  /-\d{8}$/, // claude-3-5-sonnet-20241022
  /@\d{8}$/, // Vertex style claude-3-5-sonnet@20241022
  /-\d{4}-\d{2}-\d{2}$/, // gpt-4o-2024-08-06
  /-latest$/,
  /-\d{4}$/, // gpt-4-0613, gpt-3.5-turbo-0125
  /-\d{3}$/, // gemini-1.5-pro-002
  /-preview(-\d{2}-\d{2})?$/, // gemini-2.5-flash-preview-05-20
  /-exp(-\d{4})?$/,
];

/** Names to try for a model, most specific first. */
export function candidateNames(model: string): string[] {
  const names: string[] = [];
  const add = (name: string): void => {
    if (name !== "" && !names.includes(name)) names.push(name);
  };
  let name = model.trim().toLowerCase();
  add(name);
  // OpenRouter's "anthropic/claude-3.5-sonnet", Gemini's "models/gemini-2.5-pro".
  const slash = name.lastIndexOf("/");
  if (slash !== -1) {
    name = name.slice(slash + 1);
    add(name);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const suffix of SUFFIXES) {
      const stripped = name.replace(suffix, "");
      if (stripped !== name && stripped !== "") {
        name = stripped;
        add(name);
        changed = true;
      }
    }
  }
  // OpenRouter writes versions with dots (claude-3.5-sonnet) where Anthropic uses dashes.
  for (const n of [...names]) add(n.replace(/(\d)\.(\d)/g, "$1-$2"));
  return names;
}

export interface Pricer {
  /** USD for the usage, 0 for local providers, null when the model's price is unknown. */
  costFor(model: string, providerType: ProviderType, usage: TokenUsage): number | null;
  priceOf(model: string): PriceConfig | undefined;
}

/** Memo entries beyond this are dropped wholesale; model names come from clients. */
const MAX_MEMO = 10_000;

export function createPricer(overrides: Record<string, PriceConfig> = {}): Pricer {
  const custom = new Map<string, PriceConfig>();
  for (const [name, price] of Object.entries(overrides)) custom.set(name.trim().toLowerCase(), price);
  const memo = new Map<string, PriceConfig | null>();
  const customMemo = new Map<string, PriceConfig | null>();

  const find = (model: string, table: (name: string) => PriceConfig | undefined): PriceConfig | null => {
    for (const name of candidateNames(model)) {
      const price = table(name);
      if (price) return price;
    }
    return null;
  };
  const remember = (cache: Map<string, PriceConfig | null>, model: string, price: PriceConfig | null) => {
    if (cache.size >= MAX_MEMO) cache.clear();
    cache.set(model, price);
    return price;
  };

  /** Overrides first, then the built-in table, at each name from most to least specific. */
  const lookup = (model: string): PriceConfig | null => {
    const hit = memo.get(model);
    if (hit !== undefined) return hit;
    const price = find(model, (name) => custom.get(name) ?? BUILTIN_PRICES[name]);
    return remember(memo, model, price);
  };
  const lookupCustom = (model: string): PriceConfig | null => {
    const hit = customMemo.get(model);
    if (hit !== undefined) return hit;
    return remember(
      customMemo,
      model,
      find(model, (name) => custom.get(name)),
    );
  };

  return {
    costFor(model, providerType, usage) {
      // A local model priced by the operator (e.g. to charge for hardware) uses that price.
      const price = FREE_TYPES.has(providerType) ? lookupCustom(model) : lookup(model);
      if (!price) return FREE_TYPES.has(providerType) ? 0 : null;
      return costOf(price, usage);
    },
    priceOf: (model) => lookup(model) ?? undefined,
  };
}

/** Missing cache prices fall back to the input price: no discount is assumed that is not known. */
export function costOf(price: PriceConfig, usage: TokenUsage): number {
  const micros =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    usage.cacheReadTokens * (price.cacheRead ?? price.input) +
    usage.cacheWriteTokens * (price.cacheWrite ?? price.input);
  return micros / 1_000_000;
}
