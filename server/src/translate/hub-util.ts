// Small operations on hub values shared by several format mappings.
import { invalid, unsupported } from "./errors.js";
import type { ClientFamily, HubMessage, HubPart, HubText, TokenUsage } from "./hub.js";
import type { JsonObject } from "./narrow.js";

export function zeroUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

/** Later counts replace earlier ones: every format reports running totals, never increments. */
export function mergeUsage(into: TokenUsage, update: Partial<TokenUsage>): void {
  if (update.inputTokens !== undefined) into.inputTokens = update.inputTokens;
  if (update.outputTokens !== undefined) into.outputTokens = update.outputTokens;
  if (update.cacheReadTokens !== undefined) into.cacheReadTokens = update.cacheReadTokens;
  if (update.cacheWriteTokens !== undefined) into.cacheWriteTokens = update.cacheWriteTokens;
}

export function textOf(parts: readonly HubPart[], separator = ""): string {
  return parts
    .filter((part): part is HubText => part.type === "text")
    .map((part) => part.text)
    .join(separator);
}

/** Tool names by call id, from the assistant turns; formats that key results by name need them. */
export function toolNamesById(messages: readonly HubMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    for (const part of message.content) {
      if (part.type === "tool_use") names.set(part.id, part.name);
    }
  }
  return names;
}

export function toolNameFor(names: Map<string, string>, toolUseId: string, target: string): string {
  const name = names.get(toolUseId);
  if (name === undefined) {
    throw invalid(
      "tool result",
      `a tool result refers to tool call ${JSON.stringify(toolUseId)}, which no earlier assistant turn made; ` +
        `provider type ${target} needs the tool's name`,
    );
  }
  return name;
}

/** Consecutive turns of one role become one turn (Anthropic and Gemini want strict alternation). */
export function mergeConsecutive<T extends { role: string; parts: unknown[] }>(turns: T[]): T[] {
  const merged: T[] = [];
  for (const turn of turns) {
    const last = merged.at(-1);
    if (last && last.role === turn.role) last.parts.push(...turn.parts);
    else merged.push({ ...turn, parts: [...turn.parts] });
  }
  return merged;
}

/** The phrase for a remote image in the client's own vocabulary. */
export function remoteImageFeature(client: ClientFamily): string {
  return client === "openai" ? "image_url with a remote URL" : "image source of type url";
}

/** Refuses any key outside `known`, so nothing the client sent is dropped unnoticed. */
export function rejectUnknownKeys(
  obj: JsonObject,
  known: ReadonlySet<string>,
  where: string,
  target: string,
): void {
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) throw unsupported(where === "" ? key : `${where}.${key}`, target);
  }
}

/** Text for targets without an error flag on tool results: the flag becomes a visible prefix. */
export function toolResultText(parts: readonly HubPart[], isError: boolean): string {
  const text = textOf(parts, "\n");
  return isError ? `Error: ${text}` : text;
}
