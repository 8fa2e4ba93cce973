// Edits to a client's request body. Where it can be, the edit is made on the bytes, so a body that
// is mostly conversation history (often hundreds of KB from an agent) is copied once instead of
// re-serialised.
import { isRecord } from "../usage/taps/fields.js";

const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

function isJsonSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * The body with `"stream_options":{"include_usage":true}` as its first member. Only for a body
 * known to be a JSON object with at least one member and no `stream_options` of its own, so the
 * result has no duplicate key; undefined when the bytes do not look like that.
 */
export function withIncludeUsage(raw: Buffer): Buffer | undefined {
  let open = 0;
  while (isJsonSpace(raw[open])) open++;
  if (raw[open] !== 0x7b) return undefined;
  let next = open + 1;
  while (isJsonSpace(raw[next])) next++;
  if (next >= raw.length || raw[next] === 0x7d) return undefined;
  return Buffer.concat([raw.subarray(0, open + 1), INCLUDE_USAGE, raw.subarray(open + 1)]);
}

/**
 * A Gemini body for another model, where the body names the model again: each request of a
 * batchEmbedContents, and the generateContentRequest a countTokens call may wrap. Gemini refuses a
 * body whose model differs from the path's. Undefined when the body names no model.
 */
export function withGeminiModel(
  body: Record<string, unknown>,
  model: string,
): Record<string, unknown> | undefined {
  const name = model.startsWith("models/") ? model : `models/${model}`;
  if (Array.isArray(body.requests))
    return {
      ...body,
      requests: body.requests.map((r: unknown) => (isRecord(r) ? { ...r, model: name } : r)),
    };
  const wrapped = body.generateContentRequest;
  if (isRecord(wrapped)) return { ...body, generateContentRequest: { ...wrapped, model: name } };
  return undefined;
}
