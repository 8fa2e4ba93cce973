import { describe, expect, it } from "vitest";
import { createUsageChunkStripper } from "../../server/src/facade/stream-filter.js";

const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o" };
const events = [
  chunk({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
  chunk({ ...base, choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] }),
  chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
];
const usage = chunk({
  ...base,
  choices: [],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
});
const done = "data: [DONE]\n\n";

describe("usage chunk stripper", () => {
  it("removes exactly the injected usage chunk, at every split point", () => {
    const upstream = Buffer.from(events.join("") + usage + done);
    const expected = events.join("") + done;
    for (let cut = 1; cut < upstream.length; cut++) {
      const s = createUsageChunkStripper();
      const out = [s.push(upstream.subarray(0, cut)), s.push(upstream.subarray(cut))]
        .filter((x): x is Uint8Array => x !== undefined)
        .map((x) => Buffer.from(x).toString())
        .join("");
      expect(out).toBe(expected);
    }
  });

  it("keeps chunks that carry choices even when they mention usage", () => {
    const s = createUsageChunkStripper();
    const both = chunk({ ...base, choices: [{ index: 0, delta: { content: "usage" } }], usage: null });
    expect(Buffer.from(s.push(Buffer.from(both))!).toString()).toBe(both);
  });
});

describe("SSE to JSON array re-framing (Gemini without alt=sse)", () => {
  it("turns each event into one array element, at every split point", async () => {
    const { createSseToJsonArray } = await import("../../server/src/facade/stream-filter.js");
    const items = [
      { candidates: [{ content: { parts: [{ text: "Hé" }] } }] },
      { usageMetadata: { promptTokenCount: 3 } },
    ];
    const upstream = Buffer.from(items.map((o) => `data: ${JSON.stringify(o)}\r\n\r\n`).join(""));
    for (let cut = 1; cut < upstream.length; cut++) {
      const f = createSseToJsonArray();
      const out = [f.push(upstream.subarray(0, cut)), f.push(upstream.subarray(cut)), f.end?.()]
        .filter((x): x is Uint8Array => x !== undefined)
        .map((x) => Buffer.from(x).toString())
        .join("");
      expect(JSON.parse(out)).toEqual(items);
    }
    const empty = createSseToJsonArray();
    expect(Buffer.from(empty.end!()!).toString()).toBe("[]");
  });
});
