import { describe, expect, it } from "vitest";
import { createUrlJoiner, joinUpstreamUrl } from "../../server/src/providers/url.js";

describe("joinUpstreamUrl", () => {
  it("keeps the base's own path", () => {
    expect(joinUpstreamUrl("https://openrouter.ai/api/v1", "/chat/completions")).toBe(
      "https://openrouter.ai/api/v1/chat/completions",
    );
    expect(joinUpstreamUrl("https://api.openai.com/v1/", "/responses")).toBe(
      "https://api.openai.com/v1/responses",
    );
    expect(joinUpstreamUrl("https://api.anthropic.com", "/v1/messages")).toBe(
      "https://api.anthropic.com/v1/messages",
    );
    expect(joinUpstreamUrl("http://localhost:11434//", "api/chat")).toBe("http://localhost:11434/api/chat");
  });

  it("keeps the path's query and merges the base's", () => {
    const path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
    expect(joinUpstreamUrl("https://generativelanguage.googleapis.com", path)).toBe(
      "https://generativelanguage.googleapis.com" + path,
    );
    expect(joinUpstreamUrl("https://gw.example/openai?api-version=2024-10-21", "/chat/completions")).toBe(
      "https://gw.example/openai/chat/completions?api-version=2024-10-21",
    );
    expect(joinUpstreamUrl("https://gw.example/g/?tenant=a", path)).toBe(
      `https://gw.example/g${path}&tenant=a`,
    );
  });

  it("a bound joiner gives the same answers", () => {
    const join = createUrlJoiner("https://openrouter.ai/api/v1/");
    expect(join("/embeddings")).toBe("https://openrouter.ai/api/v1/embeddings");
    expect(join("/models")).toBe("https://openrouter.ai/api/v1/models");
  });
});
