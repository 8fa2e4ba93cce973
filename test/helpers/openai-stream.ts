// Reads an OpenAI chat stream whose client did not ask for usage, checking every chunk on the way:
// none may carry usage, and none may be the usage-only chunk (no choices) keygate cuts out.
import type OpenAI from "openai";
import { expect } from "vitest";

export async function readStreamWithoutUsage(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
): Promise<{ text: string; chunks: number }> {
  let text = "";
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    expect(chunk.usage ?? null).toBeNull();
    expect(chunk.choices.length).toBeGreaterThan(0);
    text += chunk.choices[0]?.delta.content ?? "";
  }
  return { text, chunks };
}
