// Anthropic Messages usage. input_tokens EXCLUDES cache reads and writes already (the total
// prompt is input + cache_creation + cache_read), so the counts map across unchanged.
import type { ExtractedUsage, StreamTap } from "../../providers/types.js";
import { type PartialUsage, type TapOptions, estimatedUsage } from "./estimate.js";
import { count, isRecord, maybeCount, parseJson, record, str } from "./fields.js";
import { sseFramer } from "./framing.js";
import { stringValue, stringValueChars } from "./scan.js";

export function anthropicMessagesUsage(body: unknown): ExtractedUsage | undefined {
  if (!isRecord(body)) return undefined;
  const usage = record(body.usage);
  if (!usage) return undefined;
  const result: ExtractedUsage = {
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cacheReadTokens: count(usage.cache_read_input_tokens),
    cacheWriteTokens: count(usage.cache_creation_input_tokens),
    estimated: false,
  };
  const model = str(body.model);
  if (model !== undefined) result.servedModel = model;
  return result;
}

/** The text of an Anthropic `{"type":"error","error":{type,message}}` body. */
export function anthropicErrorMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const err = record(body.error);
  if (!err) return undefined;
  const message = str(err.message) ?? "error";
  const type = str(err.type);
  return type ? `${type}: ${message}` : message;
}

/** Text-bearing delta fields (text, tool input JSON, thinking), measured for estimates. */
const DELTA_KEYS = ['"text"', '"partial_json"', '"thinking"'];

/**
 * message_start carries input and cache counts; each message_delta carries the cumulative
 * output count and, in newer API versions, cumulative input/cache counts too, so the latest
 * non-null value of each field wins.
 */
export function createAnthropicTap(opts: TapOptions = {}): StreamTap {
  const known: PartialUsage = {};
  let sawDelta = false;
  let chars = 0;
  let error: string | undefined;

  const take = (usage: Record<string, unknown>): void => {
    const input = maybeCount(usage.input_tokens);
    const output = maybeCount(usage.output_tokens);
    const cacheRead = maybeCount(usage.cache_read_input_tokens);
    const cacheWrite = maybeCount(usage.cache_creation_input_tokens);
    if (input !== undefined) known.inputTokens = input;
    if (output !== undefined) known.outputTokens = output;
    if (cacheRead !== undefined) known.cacheReadTokens = cacheRead;
    if (cacheWrite !== undefined) known.cacheWriteTokens = cacheWrite;
  };

  const push = sseFramer((event, data) => {
    const type = event ?? stringValue(data, '"type"');
    switch (type) {
      case "content_block_delta":
        for (const key of DELTA_KEYS) chars += stringValueChars(data, key);
        return;
      case "message_start": {
        const body = parseJson(data);
        const message = isRecord(body) ? record(body.message) : undefined;
        if (!message) return;
        known.servedModel = str(message.model) ?? known.servedModel;
        const usage = record(message.usage);
        if (usage) take(usage);
        return;
      }
      case "message_delta": {
        const body = parseJson(data);
        const usage = isRecord(body) ? record(body.usage) : undefined;
        if (!usage) return;
        take(usage);
        sawDelta = true;
        return;
      }
      case "error":
        error = anthropicErrorMessage(parseJson(data)) ?? "stream error";
        return;
      default:
        return;
    }
  });

  return {
    push,
    result() {
      if (!sawDelta) return estimatedUsage(known, chars, opts);
      const usage: ExtractedUsage = {
        inputTokens: known.inputTokens ?? 0,
        outputTokens: known.outputTokens ?? 0,
        cacheReadTokens: known.cacheReadTokens ?? 0,
        cacheWriteTokens: known.cacheWriteTokens ?? 0,
        estimated: false,
      };
      if (known.servedModel !== undefined) usage.servedModel = known.servedModel;
      return usage;
    },
    streamError: () => error,
  };
}
