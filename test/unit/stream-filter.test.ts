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

  it("passes the upstream's bytes on untouched: comments, ids, CRLF and CR line endings, split data lines", () => {
    const usageEvent = usage.replace("\n\n", "\r\n\r\n");
    const parts = [
      ": keep-alive\r\n\r\n",
      `id: 1\r\n${events[0]!.replace("\n\n", "\r\n\r\n")}`,
      `retry: 3000\r${events[1]!.replace("\n\n", "\r\r")}`,
      'data: {"id":"chatcmpl-1","choices":[{"index":0,\ndata: "delta":{"content":"é"}}]}\n\n',
      events[2]!,
    ];
    const upstream = Buffer.from(parts.join("") + usageEvent + done);
    const expected = parts.join("") + done;
    const run = (pieces: Buffer[]): string => {
      const s = createUsageChunkStripper();
      return [...pieces.map((p) => s.push(p)), s.end?.()]
        .filter((x): x is Uint8Array => x !== undefined)
        .map((x) => Buffer.from(x).toString("latin1"))
        .join("");
    };
    for (let cut = 1; cut < upstream.length; cut++) {
      expect(run([upstream.subarray(0, cut), upstream.subarray(cut)])).toBe(
        Buffer.from(expected).toString("latin1"),
      );
    }
    const bytewise = Array.from({ length: upstream.length }, (_, i) => upstream.subarray(i, i + 1));
    expect(run(bytewise)).toBe(Buffer.from(expected).toString("latin1"));
  });

  it("passes on a last event that never got its blank line, unless it is the usage chunk", () => {
    const s = createUsageChunkStripper();
    const last = events[1]!.trimEnd();
    expect(s.push(Buffer.from(events[0]! + last))).toBeDefined();
    expect(Buffer.from(s.end!()!).toString()).toBe(last);
    const t = createUsageChunkStripper();
    expect(t.push(Buffer.from(usage.trimEnd()))).toBeUndefined();
    expect(t.end!()).toBeUndefined();
  });

  it("lets an event too large to hold through as it arrives, and still strips the usage chunk after it", () => {
    const s = createUsageChunkStripper();
    const big = `: ${"x".repeat(1_100_000)}`;
    const first = s.push(Buffer.from(big));
    expect(first && Buffer.from(first).toString()).toBe(big);
    const rest = s.push(Buffer.from(`\r\n\r\n${usage}${done}`));
    expect(rest && Buffer.from(rest).toString()).toBe(`\r\n\r\n${done}`);
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
