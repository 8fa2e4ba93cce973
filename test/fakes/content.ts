// Deterministic content shared by every format: the answer text, its streamed pieces, and tool calls.

const WORDS = [
  "Hello",
  "from",
  "the",
  "fake",
  "upstream",
  "which",
  "answers",
  "every",
  "request",
  "the",
  "same",
  "way",
];

export const DEFAULT_PIECES = 5;

/** The answer cut into `n` pieces (one word each); joined they are the whole answer. */
export function answerPieces(n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = WORDS[i % WORDS.length] ?? "word";
    out.push(i === 0 ? word : ` ${word}`);
  }
  return out;
}

export function answerText(n: number): string {
  return answerPieces(n).join("");
}

/** Cuts a string into at most `n` consecutive non-empty fragments. */
export function splitInto(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(Math.floor(n), text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export interface ToolCall {
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
  input: Record<string, string>;
}

const CITIES = ["Paris", "Tokyo", "Lima", "Oslo", "Cairo", "Perth"];

export function makeToolCalls(name: string, count: number): ToolCall[] {
  const out: ToolCall[] = [];
  for (let i = 0; i < count; i++) {
    const input = { location: CITIES[i % CITIES.length] ?? "Paris" };
    out.push({ name, input, arguments: JSON.stringify(input) });
  }
  return out;
}

/** Plain text of a message content that is a string or an array of text parts/blocks. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join(" ");
}

/** Text of the last message whose role is "user". */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (isRecord(m) && m.role === "user") return textOf(m.content);
  }
  return "";
}

/**
 * How many tool calls to answer with: the forced count if set, else one when the request
 * offers tools and the last user message asks about the weather, else none.
 */
export function toolCallCount(forced: number | undefined, hasTools: boolean, userText: string): number {
  if (forced !== undefined) return forced;
  return hasTools && /weather/i.test(userText) ? 1 : 0;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown, fallback: string): string {
  return typeof v === "string" && v !== "" ? v : fallback;
}
