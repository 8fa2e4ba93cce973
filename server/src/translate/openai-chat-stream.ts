// OpenAI chat completion chunks (SSE) <-> hub stream events.
// Reference: the `openai` package's ChatCompletionChunk type and its ChatCompletionStream accumulator.
import { hubErrorToOpenAI, openAIErrorToHub } from "./error-body.js";
import type { HubStreamDecoder, HubStreamEncoder, HubStreamEvent, TokenUsage, ToolIdMinter } from "./hub.js";
import { arr, isRecord, num, rec, str, tryParseJson, type JsonObject } from "./narrow.js";
import {
  hubStopToOpenAI,
  hubUsageToOpenAI,
  openAIFinishToHub,
  openAIUsageToHub,
} from "./openai-chat-response.js";
import { createSseReader, sseData } from "./sse.js";

interface ToolState {
  hubIndex: number;
  id?: string;
  name?: string;
  started: boolean;
  /** Argument text that arrived before the call's name (some compatible servers do this). */
  pendingArgs: string;
}

export function createOpenAIStreamDecoder(mintId: ToolIdMinter): HubStreamDecoder {
  const sse = createSseReader();
  const tools = new Map<number, ToolState>();
  let started = false;

  function onData(data: string): HubStreamEvent[] {
    if (data.trim() === "[DONE]") return [{ type: "done" }];
    const chunk = rec(tryParseJson(data));
    if (!chunk) return [];
    if (isRecord(chunk.error)) return [{ type: "error", error: openAIErrorToHub(chunk.error) }];
    const out: HubStreamEvent[] = [];
    if (!started) {
      started = true;
      out.push({ type: "start" });
    }
    const choice = rec(arr(chunk.choices)?.[0]);
    const delta = rec(choice?.delta);
    if (delta) {
      const text = str(delta.content);
      if (text) out.push({ type: "text", text });
      const refusal = str(delta.refusal);
      if (refusal) out.push({ type: "text", text: refusal });
      (arr(delta.tool_calls) ?? []).forEach((raw, position) =>
        out.push(...onToolDelta(rec(raw) ?? {}, position)),
      );
    }
    const finish = str(choice?.finish_reason);
    if (finish) out.push({ type: "finish", stop: openAIFinishToHub(finish) });
    if (isRecord(chunk.usage)) out.push({ type: "usage", usage: openAIUsageToHub(chunk.usage) });
    return out;
  }

  function onToolDelta(call: JsonObject, position: number): HubStreamEvent[] {
    const upstreamIndex = num(call.index) ?? position;
    let state = tools.get(upstreamIndex);
    if (!state) {
      state = { hubIndex: tools.size, started: false, pendingArgs: "" };
      tools.set(upstreamIndex, state);
    }
    const fn = rec(call.function) ?? {};
    state.id ??= str(call.id);
    state.name ??= str(fn.name);
    const args = str(fn.arguments) ?? "";
    const out: HubStreamEvent[] = [];
    if (!state.started) {
      if (state.name === undefined) {
        state.pendingArgs += args;
        return out;
      }
      state.started = true;
      out.push({
        type: "tool_start",
        index: state.hubIndex,
        id: state.id ?? mintId(state.hubIndex),
        name: state.name,
      });
      const json = state.pendingArgs + args;
      if (json !== "") out.push({ type: "tool_args", index: state.hubIndex, json });
      return out;
    }
    if (args !== "") out.push({ type: "tool_args", index: state.hubIndex, json: args });
    return out;
  }

  return {
    push: (text) => sse.feed(text).flatMap((event) => onData(event.data)),
    end: () => sse.flush().flatMap((event) => onData(event.data)),
  };
}

export function createOpenAIStreamEncoder(
  ctx: { requestedModel: string; id: string; includeUsage: boolean },
  usage: () => TokenUsage,
): HubStreamEncoder {
  const created = Math.floor(Date.now() / 1000);
  let started = false;
  let finished = false;
  let closed = false;

  const chunk = (choices: JsonObject[], extra: JsonObject = {}): string =>
    sseData({
      id: ctx.id,
      object: "chat.completion.chunk",
      created,
      model: ctx.requestedModel,
      choices,
      ...extra,
    });
  const delta = (d: JsonObject, finishReason: string | null = null): string =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);

  function encode(event: HubStreamEvent): string[] {
    if (closed || event.type === "usage") return [];
    if (event.type === "error") {
      // The OpenAI API reports a mid-stream failure as a data line holding an `error` object.
      closed = true;
      return [sseData(hubErrorToOpenAI(event.error))];
    }
    const out: string[] = [];
    if (!started) {
      started = true;
      out.push(delta({ role: "assistant", content: "" }));
    }
    switch (event.type) {
      case "text":
        out.push(delta({ content: event.text }));
        break;
      case "tool_start":
        out.push(
          delta({
            tool_calls: [
              {
                index: event.index,
                id: event.id,
                type: "function",
                function: { name: event.name, arguments: "" },
              },
            ],
          }),
        );
        break;
      case "tool_args":
        out.push(delta({ tool_calls: [{ index: event.index, function: { arguments: event.json } }] }));
        break;
      case "finish":
        if (!finished) {
          finished = true;
          out.push(delta({}, hubStopToOpenAI(event.stop)));
        }
        break;
      case "done":
        if (!finished) {
          finished = true;
          out.push(delta({}, "stop"));
        }
        // Usage comes last, in a chunk without choices, as OpenAI sends it with include_usage.
        if (ctx.includeUsage) out.push(chunk([], { usage: hubUsageToOpenAI(usage()) }));
        out.push("data: [DONE]\n\n");
        closed = true;
        break;
      case "start":
        break;
    }
    return out;
  }

  return { encode };
}
