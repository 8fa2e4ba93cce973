// Ollama /api/chat <-> hub: request bodies and non-streamed responses.
// Reference: ollama/ollama docs/api.md ("Generate a chat completion") and api/types.go.
import { unsupported } from "./errors.js";
import { remoteImageFeature, textOf, toolNameFor, toolNamesById, toolResultText } from "./hub-util.js";
import type {
  HubMessage,
  HubRequest,
  HubResponse,
  HubStop,
  HubText,
  HubToolUse,
  TokenUsage,
  ToolIdMinter,
} from "./hub.js";
import { arr, num, rec, str, type JsonObject } from "./narrow.js";

const TARGET = "ollama";

export function encodeOllamaRequest(hub: HubRequest, opts: { model: string; stream: boolean }): JsonObject {
  if (hub.parallelToolCalls === false && hub.tools.length > 0)
    throw unsupported("parallel_tool_calls: false", TARGET);
  const choice = hub.toolChoice;
  if (choice?.type === "required") throw unsupported("tool_choice required", TARGET);
  if (choice?.type === "tool") throw unsupported("tool_choice naming one tool", TARGET);

  const names = toolNamesById(hub.messages);
  const messages: JsonObject[] = [];
  if (hub.system.length > 0) messages.push({ role: "system", content: textOf(hub.system, "\n\n") });
  for (const message of hub.messages) messages.push(...encodeMessage(message, hub, names));

  // Ollama streams unless told otherwise, so `stream` is always explicit.
  const out: JsonObject = { model: opts.model, messages, stream: opts.stream };
  const options: JsonObject = {};
  if (hub.temperature !== undefined) options.temperature = hub.temperature;
  if (hub.topP !== undefined) options.top_p = hub.topP;
  if (hub.topK !== undefined) options.top_k = hub.topK;
  if (hub.maxTokens !== undefined) options.num_predict = hub.maxTokens;
  if (hub.stop.length > 0) options.stop = hub.stop;
  if (hub.seed !== undefined) options.seed = hub.seed;
  if (hub.presencePenalty !== undefined) options.presence_penalty = hub.presencePenalty;
  if (hub.frequencyPenalty !== undefined) options.frequency_penalty = hub.frequencyPenalty;
  if (Object.keys(options).length > 0) out.options = options;
  // tool_choice "none" is honoured by not offering the tools at all. A tool's `strict` flag has
  // no Ollama counterpart and is left out: the schema still goes along.
  if (hub.tools.length > 0 && choice?.type !== "none") {
    out.tools = hub.tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters,
      },
    }));
  }
  if (hub.responseFormat?.type === "json_object") out.format = "json";
  if (hub.responseFormat?.type === "json_schema") out.format = hub.responseFormat.schema;
  return out;
}

function encodeMessage(message: HubMessage, hub: HubRequest, names: Map<string, string>): JsonObject[] {
  if (message.role === "system") return [{ role: "system", content: textOf(message.content, "\n\n") }];
  const out: JsonObject[] = [];
  const texts: string[] = [];
  const images: string[] = [];
  const calls: JsonObject[] = [];
  for (const part of message.content) {
    if (part.type === "text") texts.push(part.text);
    else if (part.type === "image") {
      if (part.source.kind === "url") throw unsupported(remoteImageFeature(hub.client), TARGET);
      images.push(part.source.data);
    } else if (part.type === "tool_use") {
      calls.push({ function: { name: part.name, arguments: part.input } });
    } else {
      if (part.content.some((p) => p.type === "image")) throw unsupported("images in tool results", TARGET);
      out.push({
        role: "tool",
        content: toolResultText(part.content, part.isError),
        tool_name: toolNameFor(names, part.toolUseId, TARGET),
      });
    }
  }
  if (texts.length > 0 || images.length > 0 || calls.length > 0) {
    const turn: JsonObject = { role: message.role, content: texts.join("\n") };
    if (images.length > 0) turn.images = images;
    if (calls.length > 0) turn.tool_calls = calls;
    out.push(turn);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// responses

export function ollamaDoneToHub(reason: string | undefined, sawToolCall: boolean): HubStop {
  if (reason === "length") return "max_tokens";
  return sawToolCall ? "tool_use" : "end_turn";
}

export function ollamaUsageToHub(body: unknown): TokenUsage {
  const obj = rec(body) ?? {};
  return {
    inputTokens: num(obj.prompt_eval_count) ?? 0,
    outputTokens: num(obj.eval_count) ?? 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
}

/** Tool calls of one message; Ollama gives arguments as an object and no call id. */
export function ollamaToolCalls(message: unknown): { name: string; args: unknown }[] {
  return (arr(rec(message)?.tool_calls) ?? []).map((raw) => {
    const fn = rec(rec(raw)?.function) ?? {};
    return { name: str(fn.name) ?? "", args: fn.arguments ?? {} };
  });
}

export function decodeOllamaResponse(body: unknown, mintId: ToolIdMinter): HubResponse {
  const obj = rec(body) ?? {};
  const message = rec(obj.message) ?? {};
  const content: (HubText | HubToolUse)[] = [];
  // `thinking` is the model's reasoning trace; other formats have no place for it.
  const text = str(message.content) ?? "";
  if (text !== "") content.push({ type: "text", text });
  const calls = ollamaToolCalls(message);
  calls.forEach((call, index) =>
    content.push({ type: "tool_use", id: mintId(index), name: call.name, input: call.args }),
  );
  return {
    content,
    stop: ollamaDoneToHub(str(obj.done_reason), calls.length > 0),
    usage: ollamaUsageToHub(obj),
  };
}
