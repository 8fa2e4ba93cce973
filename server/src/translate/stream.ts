// One streamed answer: upstream bytes in, client bytes out, event by event. Nothing is held
// back except what the client format itself reports later (stop reason, final usage).
import { createAnthropicStreamDecoder, createAnthropicStreamEncoder } from "./anthropic-stream.js";
import { createGeminiStreamDecoder } from "./gemini-stream.js";
import { mergeUsage, zeroUsage } from "./hub-util.js";
import type {
  ClientFamily,
  HubStreamDecoder,
  HubStreamEncoder,
  HubStreamEvent,
  TokenUsage,
  ToolIdMinter,
  WireFamily,
} from "./hub.js";
import { toolIdMinter } from "./ids.js";
import { createOllamaStreamDecoder } from "./ollama-stream.js";
import { createOpenAIStreamDecoder, createOpenAIStreamEncoder } from "./openai-chat-stream.js";

export interface StreamTranslator {
  /** One upstream chunk, split anywhere; returns the client bytes it completes. */
  push(chunk: Uint8Array): Uint8Array[];
  /** The upstream closed; returns the client's closing bytes. */
  end(): Uint8Array[];
  /** Usage reported by the upstream so far. */
  usage(): TokenUsage;
}

export interface StreamContext {
  requestedModel: string;
  id: string;
  /** OpenAI clients only: whether they asked for the final usage chunk. */
  includeUsage: boolean;
}

function decoderFor(from: WireFamily, mintId: ToolIdMinter): HubStreamDecoder {
  switch (from) {
    case "openai":
      return createOpenAIStreamDecoder(mintId);
    case "anthropic":
      return createAnthropicStreamDecoder(mintId);
    case "google":
      return createGeminiStreamDecoder(mintId);
    case "ollama":
      return createOllamaStreamDecoder(mintId);
  }
}

function encoderFor(to: ClientFamily, ctx: StreamContext, usage: () => TokenUsage): HubStreamEncoder {
  return to === "openai" ? createOpenAIStreamEncoder(ctx, usage) : createAnthropicStreamEncoder(ctx, usage);
}

export function createStreamTranslator(
  from: WireFamily,
  to: ClientFamily,
  ctx: StreamContext,
): StreamTranslator {
  const usage = zeroUsage();
  const decoder = decoderFor(from, toolIdMinter(to, ctx.id));
  const encoder = encoderFor(to, ctx, () => ({ ...usage }));
  // Same format on both sides: bytes pass through untouched; decoding only tracks usage.
  const passthrough = from === to;
  const text = new TextDecoder();
  const bytes = new TextEncoder();
  let terminated = false;
  let finished = false;

  function handle(events: HubStreamEvent[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const event of events) {
      if (terminated) break;
      if (event.type === "usage") mergeUsage(usage, event.usage);
      if (event.type === "finish") finished = true;
      if (event.type === "done" || event.type === "error") terminated = true;
      if (!passthrough) for (const piece of encoder.encode(event)) out.push(bytes.encode(piece));
    }
    return out;
  }

  return {
    push(chunk) {
      const out = handle(decoder.push(text.decode(chunk, { stream: true })));
      return passthrough ? [chunk] : out;
    },
    end() {
      const out = handle([...decoder.push(text.decode()), ...decoder.end()]);
      if (!terminated) {
        // A stream that stopped after its finish reason (Gemini always does) is complete;
        // one that stopped earlier was cut, and the client must not mistake it for an answer.
        out.push(
          ...handle([
            finished
              ? { type: "done" }
              : {
                  type: "error",
                  error: { status: 502, message: "the upstream stream ended before the answer was complete" },
                },
          ]),
        );
      }
      return passthrough ? [] : out;
    },
    usage: () => ({ ...usage }),
  };
}
