// Anthropic Messages stream events (SSE) <-> hub stream events.
// Reference: @anthropic-ai/sdk RawMessageStreamEvent types and its MessageStream accumulator.
import {
  anthropicStopToHub,
  anthropicUsageToHub,
  hubStopToAnthropic,
  hubUsageToAnthropic,
} from "./anthropic-response.js";
import { anthropicErrorToHub, hubErrorToAnthropic } from "./error-body.js";
import type {
  HubStop,
  HubStreamDecoder,
  HubStreamEncoder,
  HubStreamEvent,
  TokenUsage,
  ToolIdMinter,
} from "./hub.js";
import { num, rec, str, tryParseJson } from "./narrow.js";
import { createSseReader, sseEvent } from "./sse.js";

type BlockKind = { kind: "text" } | { kind: "tool"; hubIndex: number } | { kind: "other" };

export function createAnthropicStreamDecoder(mintId: ToolIdMinter): HubStreamDecoder {
  const sse = createSseReader();
  const blocks = new Map<number, BlockKind>();
  let tools = 0;

  function onData(data: string): HubStreamEvent[] {
    const event = rec(tryParseJson(data));
    if (!event) return [];
    switch (event.type) {
      case "message_start":
        return [{ type: "usage", usage: anthropicUsageToHub(rec(event.message)?.usage) }, { type: "start" }];
      case "content_block_start": {
        const index = num(event.index) ?? 0;
        const block = rec(event.content_block) ?? {};
        if (block.type === "text") {
          blocks.set(index, { kind: "text" });
          const text = str(block.text);
          return text ? [{ type: "text", text }] : [];
        }
        if (block.type === "tool_use") {
          const hubIndex = tools++;
          blocks.set(index, { kind: "tool", hubIndex });
          return [
            {
              type: "tool_start",
              index: hubIndex,
              id: str(block.id) ?? mintId(hubIndex),
              name: str(block.name) ?? "",
            },
          ];
        }
        // Thinking and other block kinds have no counterpart in the other formats.
        blocks.set(index, { kind: "other" });
        return [];
      }
      case "content_block_delta": {
        const block = blocks.get(num(event.index) ?? 0) ?? { kind: "text" };
        const delta = rec(event.delta) ?? {};
        if (delta.type === "text_delta" && block.kind === "text") {
          const text = str(delta.text);
          return text ? [{ type: "text", text }] : [];
        }
        if (delta.type === "input_json_delta" && block.kind === "tool") {
          const json = str(delta.partial_json);
          return json ? [{ type: "tool_args", index: block.hubIndex, json }] : [];
        }
        return [];
      }
      case "message_delta": {
        const delta = rec(event.delta) ?? {};
        const out: HubStreamEvent[] = [{ type: "usage", usage: anthropicUsageToHub(event.usage) }];
        const reason = str(delta.stop_reason);
        if (reason !== undefined) {
          const stopSequence = str(delta.stop_sequence);
          out.push({
            type: "finish",
            stop: anthropicStopToHub(reason),
            ...(stopSequence !== undefined ? { stopSequence } : {}),
          });
        }
        return out;
      }
      case "message_stop":
        return [{ type: "done" }];
      case "error":
        return [{ type: "error", error: anthropicErrorToHub(event.error) }];
      default:
        return [];
    }
  }

  return {
    push: (text) => sse.feed(text).flatMap((event) => onData(event.data)),
    end: () => sse.flush().flatMap((event) => onData(event.data)),
  };
}

export function createAnthropicStreamEncoder(
  ctx: { requestedModel: string; id: string },
  usage: () => TokenUsage,
): HubStreamEncoder {
  let started = false;
  let closed = false;
  let nextBlock = 0;
  let open: { index: number; kind: "text" | "tool" } | undefined;
  const toolBlocks = new Map<number, number>();
  let stop: HubStop = "end_turn";
  let stopSequence: string | null = null;

  function start(out: string[]): void {
    if (started) return;
    started = true;
    out.push(
      sseEvent("message_start", {
        type: "message_start",
        message: {
          id: ctx.id,
          type: "message",
          role: "assistant",
          model: ctx.requestedModel,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: hubUsageToAnthropic(usage()),
        },
      }),
    );
  }

  function closeOpen(out: string[]): void {
    if (!open) return;
    out.push(sseEvent("content_block_stop", { type: "content_block_stop", index: open.index }));
    open = undefined;
  }

  function openBlock(out: string[], kind: "text" | "tool", contentBlock: object): number {
    closeOpen(out);
    const index = nextBlock++;
    open = { index, kind };
    out.push(
      sseEvent("content_block_start", { type: "content_block_start", index, content_block: contentBlock }),
    );
    return index;
  }

  function encode(event: HubStreamEvent): string[] {
    if (closed || event.type === "usage") return [];
    if (event.type === "error") {
      closed = true;
      return [sseEvent("error", hubErrorToAnthropic(event.error))];
    }
    const out: string[] = [];
    start(out);
    switch (event.type) {
      case "text": {
        const index = open?.kind === "text" ? open.index : openBlock(out, "text", { type: "text", text: "" });
        out.push(
          sseEvent("content_block_delta", {
            type: "content_block_delta",
            index,
            delta: { type: "text_delta", text: event.text },
          }),
        );
        break;
      }
      case "tool_start":
        toolBlocks.set(
          event.index,
          openBlock(out, "tool", { type: "tool_use", id: event.id, name: event.name, input: {} }),
        );
        break;
      case "tool_args": {
        const index = toolBlocks.get(event.index);
        if (index === undefined) break;
        out.push(
          sseEvent("content_block_delta", {
            type: "content_block_delta",
            index,
            delta: { type: "input_json_delta", partial_json: event.json },
          }),
        );
        break;
      }
      case "finish":
        // Held back: Anthropic reports the stop reason together with the final usage.
        stop = event.stop;
        stopSequence = event.stopSequence ?? null;
        break;
      case "done":
        closeOpen(out);
        out.push(
          sseEvent("message_delta", {
            type: "message_delta",
            delta: { stop_reason: hubStopToAnthropic(stop), stop_sequence: stopSequence },
            usage: hubUsageToAnthropic(usage()),
          }),
        );
        out.push(sseEvent("message_stop", { type: "message_stop" }));
        closed = true;
        break;
      case "start":
        break;
    }
    return out;
  }

  return { encode };
}
