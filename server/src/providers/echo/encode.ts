// Byte encoding of echo responses, and the shape echoRespond returns.
import type { ExtractedUsage } from "../types.js";

export interface EchoResponse {
  status: number;
  headers: [string, string][];
  chunks: AsyncIterable<Uint8Array> | Uint8Array;
  usage: ExtractedUsage;
}

const encoder = new TextEncoder();

export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** One SSE event; `separator` lets Google's CRLF framing be reproduced. */
export function sseEvent(event: string | undefined, data: unknown, separator = "\n"): Uint8Array {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  const head = event === undefined ? "" : `event: ${event}${separator}`;
  return encoder.encode(`${head}data: ${payload}${separator}${separator}`);
}

export function ndjsonLine(value: unknown): Uint8Array {
  return encoder.encode(`${JSON.stringify(value)}\n`);
}

/** Yields pre-built chunks one by one, like an upstream delivering events as they are made. */
export async function* chunksOf(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

export const JSON_HEADERS: readonly [string, string][] = [["content-type", "application/json"]];
export const SSE_HEADERS: readonly [string, string][] = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache"],
];
export const NDJSON_HEADERS: readonly [string, string][] = [["content-type", "application/x-ndjson"]];

export function jsonResponse(status: number, body: unknown, usage: ExtractedUsage): EchoResponse {
  return { status, headers: JSON_HEADERS.map((h) => [h[0], h[1]]), chunks: jsonBytes(body), usage };
}

export function streamResponse(
  headers: readonly [string, string][],
  chunks: readonly Uint8Array[],
  usage: ExtractedUsage,
): EchoResponse {
  return { status: 200, headers: headers.map((h) => [h[0], h[1]]), chunks: chunksOf(chunks), usage };
}

export function echoUsage(inputTokens: number, outputTokens: number, model: string): ExtractedUsage {
  return {
    inputTokens,
    outputTokens,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    servedModel: model,
    estimated: false,
  };
}

export const NO_USAGE: Readonly<ExtractedUsage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  estimated: false,
});

export function randomId(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`;
}
