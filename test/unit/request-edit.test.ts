import { describe, expect, it } from "vitest";
import { withGeminiModel, withIncludeUsage } from "../../server/src/facade/request-edit.js";

describe("withIncludeUsage", () => {
  it("adds stream_options as the first member and keeps every original byte as it was", () => {
    // Spacing, key order and escapes a re-serialisation would change.
    const body =
      ' \n{ "model" : "gpt-4o",  "stream":true, "messages":[{"role":"user","content":"caf\\u00e9"}] }';
    const out = withIncludeUsage(Buffer.from(body))!.toString("utf8");
    expect(out).toBe(
      ' \n{"stream_options":{"include_usage":true}, "model" : "gpt-4o",  "stream":true, "messages":[{"role":"user","content":"caf\\u00e9"}] }',
    );
    expect(JSON.parse(out)).toEqual({
      ...(JSON.parse(body) as object),
      stream_options: { include_usage: true },
    });
    expect(Object.keys(JSON.parse(out) as object)[0]).toBe("stream_options");
  });

  it("declines bytes that are not an object with members", () => {
    for (const body of ["", "   ", "[1,2]", '"text"', "{}", "{ \n }", "{"]) {
      expect(withIncludeUsage(Buffer.from(body))).toBeUndefined();
    }
  });
});

describe("withGeminiModel", () => {
  it("renames every request of a batch, with or without the models/ prefix on the new name", () => {
    const batch = {
      requests: [
        { model: "models/embed-alias", content: { parts: [{ text: "a" }] } },
        { model: "models/embed-alias", content: { parts: [{ text: "b" }] }, outputDimensionality: 2 },
      ],
    };
    for (const model of ["gemini-embedding-001", "models/gemini-embedding-001"]) {
      expect(withGeminiModel(batch, model)).toEqual({
        requests: [
          { model: "models/gemini-embedding-001", content: { parts: [{ text: "a" }] } },
          {
            model: "models/gemini-embedding-001",
            content: { parts: [{ text: "b" }] },
            outputDimensionality: 2,
          },
        ],
      });
    }
    // The client's body is left as it was, for a retry or a fallback.
    expect(batch.requests[0]?.model).toBe("models/embed-alias");
  });

  it("renames the generateContentRequest a countTokens call wraps, and leaves bodies that name no model", () => {
    const wrapped = { generateContentRequest: { model: "models/fast", contents: [] } };
    expect(withGeminiModel(wrapped, "gemini-2.5-flash")).toEqual({
      generateContentRequest: { model: "models/gemini-2.5-flash", contents: [] },
    });
    expect(withGeminiModel({ contents: [] }, "gemini-2.5-flash")).toBeUndefined();
    expect(withGeminiModel({ content: { parts: [] } }, "gemini-embedding-001")).toBeUndefined();
  });
});
