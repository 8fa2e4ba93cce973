import { describe, expect, it } from "vitest";
import { PROVIDER_TYPES } from "../../server/src/config/types.js";
import { UnsupportedApiError, adapterFor, servesApi } from "../../server/src/providers/index.js";
import { API_FAMILY, type Api } from "../../server/src/providers/types.js";
import { joinUpstreamUrl } from "../../server/src/providers/url.js";

const ALL_APIS = Object.keys(API_FAMILY) as Api[];

describe("adapterFor", () => {
  it("has an adapter of the right type for every provider type", () => {
    for (const type of PROVIDER_TYPES) expect(adapterFor(type).type).toBe(type);
  });

  it("openai: paths under /v1 and a Bearer credential", () => {
    const a = adapterFor("openai");
    expect(a.family).toBe("openai");
    expect(a.needsCredential).toBe(true);
    const url = (api: Api) => joinUpstreamUrl(a.defaultBaseUrl, a.upstreamPath(api, "gpt-4o", false));
    expect(url("openai.chat")).toBe("https://api.openai.com/v1/chat/completions");
    expect(url("openai.responses")).toBe("https://api.openai.com/v1/responses");
    expect(url("openai.embeddings")).toBe("https://api.openai.com/v1/embeddings");
    expect(a.upstreamPath("openai.chat", "gpt-4o", true)).toBe("/chat/completions");
    expect(a.credentialHeaders("sk-test")).toEqual([["authorization", "Bearer sk-test"]]);
    expect(a.defaultHeaders()).toEqual([]);
    expect(a.probePath).toBe("/models");
  });

  it("openai-compatible: same wire, optional credential, base from config", () => {
    const a = adapterFor("openai-compatible");
    expect(a.needsCredential).toBe(false);
    expect(a.credentialHeaders("")).toEqual([]);
    expect(a.credentialHeaders("or-key")).toEqual([["authorization", "Bearer or-key"]]);
    expect(joinUpstreamUrl("https://openrouter.ai/api/v1", a.upstreamPath("openai.chat", "x", true))).toBe(
      "https://openrouter.ai/api/v1/chat/completions",
    );
  });

  it("anthropic: x-api-key, default anthropic-version, messages paths", () => {
    const a = adapterFor("anthropic");
    expect(a.defaultBaseUrl).toBe("https://api.anthropic.com");
    expect(a.upstreamPath("anthropic.messages", "claude-sonnet-4-5", true)).toBe("/v1/messages");
    expect(a.upstreamPath("anthropic.count_tokens", "claude-sonnet-4-5", false)).toBe(
      "/v1/messages/count_tokens",
    );
    expect(a.credentialHeaders("sk-ant")).toEqual([["x-api-key", "sk-ant"]]);
    expect(a.defaultHeaders()).toEqual([["anthropic-version", "2023-06-01"]]);
    // Callers may append to what they get without affecting the next request.
    a.defaultHeaders().push(["x", "y"]);
    expect(a.defaultHeaders()).toHaveLength(1);
  });

  it("google: model in the path, SSE for streams, x-goog-api-key", () => {
    const a = adapterFor("google");
    expect(a.upstreamPath("google.generate", "gemini-2.5-flash", false)).toBe(
      "/v1beta/models/gemini-2.5-flash:generateContent",
    );
    expect(a.upstreamPath("google.generate", "models/gemini-2.5-flash", true)).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    expect(a.upstreamPath("google.generate", "a/../b?x", false)).toBe(
      "/v1beta/models/a%2F..%2Fb%3Fx:generateContent",
    );
    expect(a.upstreamPath("google.embed", "models/gemini-embedding-001", false)).toBe(
      "/v1beta/models/gemini-embedding-001:embedContent",
    );
    expect(a.upstreamPath("google.batch_embed", "gemini-embedding-001", false)).toBe(
      "/v1beta/models/gemini-embedding-001:batchEmbedContents",
    );
    expect(a.upstreamPath("google.count_tokens", "gemini-2.5-flash", false)).toBe(
      "/v1beta/models/gemini-2.5-flash:countTokens",
    );
    expect(a.credentialHeaders("AIza")).toEqual([["x-goog-api-key", "AIza"]]);
  });

  it("ollama: local default, no credential", () => {
    const a = adapterFor("ollama");
    expect(a.defaultBaseUrl).toBe("http://localhost:11434");
    expect(a.needsCredential).toBe(false);
    expect(a.upstreamPath("ollama.chat", "llama3.2", true)).toBe("/api/chat");
    expect(a.upstreamPath("ollama.generate", "llama3.2", false)).toBe("/api/generate");
    expect(a.upstreamPath("ollama.embed", "nomic-embed-text", false)).toBe("/api/embed");
    expect(a.upstreamPath("ollama.embeddings", "nomic-embed-text", false)).toBe("/api/embeddings");
    expect(a.probePath).toBe("/api/tags");
  });

  it("refuses APIs outside the adapter's family (the caller translates first)", () => {
    expect(() => adapterFor("openai").upstreamPath("anthropic.messages", "m", false)).toThrow(
      UnsupportedApiError,
    );
    expect(() => adapterFor("anthropic").upstreamPath("openai.chat", "m", false)).toThrow(
      UnsupportedApiError,
    );
    expect(() => adapterFor("google").upstreamPath("ollama.chat", "m", false)).toThrow(UnsupportedApiError);
    expect(() => adapterFor("ollama").upstreamPath("google.generate", "m", false)).toThrow(
      UnsupportedApiError,
    );
  });

  it("servesApi: each adapter its own family, echo everything", () => {
    for (const api of ALL_APIS) {
      expect(servesApi(adapterFor("echo"), api)).toBe(true);
      expect(servesApi(adapterFor("openai"), api)).toBe(API_FAMILY[api] === "openai");
      expect(servesApi(adapterFor("anthropic"), api)).toBe(API_FAMILY[api] === "anthropic");
      for (const type of ["openai", "openai-compatible", "anthropic", "google", "ollama"] as const) {
        const adapter = adapterFor(type);
        if (servesApi(adapter, api)) expect(() => adapter.upstreamPath(api, "m", false)).not.toThrow();
        else expect(() => adapter.upstreamPath(api, "m", false)).toThrow(UnsupportedApiError);
      }
    }
  });

  it("adapters read usage through the shared taps", () => {
    const tap = adapterFor("openai-compatible").createStreamTap("openai.chat");
    tap.push(
      new TextEncoder().encode(
        'data: {"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\ndata: [DONE]\n\n',
      ),
    );
    expect(tap.result()).toEqual({
      inputTokens: 3,
      outputTokens: 4,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      servedModel: "m",
      estimated: false,
    });
    const body = new TextEncoder().encode(
      '{"model":"llama3.2","done":true,"prompt_eval_count":2,"eval_count":9}',
    );
    expect(adapterFor("ollama").usageFromBody("ollama.generate", body)?.outputTokens).toBe(9);
  });
});
