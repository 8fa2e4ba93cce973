import { describe, expect, it } from "vitest";
import { withIncludeUsage } from "../../server/src/facade/request-edit.js";

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
