// What the echo provider reads from a request: the text of the last user message (echoed
// back) and the size of all input text (for deterministic token counts).
import { isRecord } from "../../usage/taps/fields.js";

export const ECHO_MODEL = "echo-1";

/** Deterministic token count: one token per four characters, rounded up. */
export function echoTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function echoReply(lastUserText: string): string {
  return `echo: ${lastUserText}`;
}

/** The text of a message content: a string, text parts ({text}), or a Gemini {parts}. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const part of content) {
      if (typeof part === "string") texts.push(part);
      else if (isRecord(part) && typeof part.text === "string") texts.push(part.text);
    }
    return texts.join("\n");
  }
  if (isRecord(content)) {
    if (Array.isArray(content.parts)) return textOf(content.parts);
    if (typeof content.text === "string") return content.text;
  }
  return "";
}

/** Splits a reply into a few word-sized pieces, as a model would stream it. */
export function streamPieces(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g);
  return pieces && pieces.length > 0 ? pieces : [""];
}

export interface Conversation {
  lastUserText: string;
  inputChars: number;
}

/**
 * Walks a list of messages ({role, content} or Gemini {role, parts}); `userRoles` says which
 * roles count as the user. Extra text (system prompts) adds to the input size.
 */
export function conversation(messages: unknown[], userRoles: ReadonlySet<string>, extra = ""): Conversation {
  let lastUserText = "";
  let inputChars = extra.length;
  for (const message of messages) {
    if (typeof message === "string") {
      inputChars += message.length;
      lastUserText = message;
      continue;
    }
    if (!isRecord(message)) continue;
    const text = textOf(message.content ?? message.parts ?? message);
    inputChars += text.length;
    // Gemini may omit the role of a user turn; typed items (tool outputs) are not user turns.
    const role =
      typeof message.role === "string"
        ? message.role
        : message.type === undefined || message.type === "message"
          ? "user"
          : "";
    if (userRoles.has(role)) lastUserText = text;
  }
  return { lastUserText, inputChars };
}

export function modelOf(body: Record<string, unknown>): string {
  return typeof body.model === "string" && body.model !== "" ? body.model : ECHO_MODEL;
}
