// OpenAI chat completions requests <-> hub.
// Reference: the `openai` package's ChatCompletionCreateParams types.
import { invalid, unsupported } from "./errors.js";
import { rejectUnknownKeys, textOf, toolResultText } from "./hub-util.js";
import type {
  HubImage,
  HubMessage,
  HubPart,
  HubRequest,
  HubText,
  HubTool,
  HubToolChoice,
  HubToolUse,
} from "./hub.js";
import { parseDataUrl, toDataUrl } from "./media.js";
import { arr, bool, isRecord, num, rec, str, tryParseJson, type JsonObject } from "./narrow.js";

// Dropped on purpose; none changes what the model generates:
//   model, stream             replaced by the gateway's routing decision
//   stream_options            the caller passes include_usage separately; the target's own usage reporting is used
//   user, safety_identifier,  caller identification for OpenAI's abuse tracking
//   metadata, store           OpenAI-side storage of the completion
//   prompt_cache_key, prompt_cache_retention, prompt_cache_options, service_tier
//                             OpenAI-side cache routing and billing tier
//   prediction                a latency optimisation; the output is the same without it
//   message `name`, image `detail`, part `prompt_cache_breakpoint`
//                             participant labels, resolution and cache hints with no equivalent
const DROPPED = new Set([
  "model",
  "stream",
  "stream_options",
  "user",
  "safety_identifier",
  "metadata",
  "store",
  "prompt_cache_key",
  "prompt_cache_retention",
  "prompt_cache_options",
  "service_tier",
  "prediction",
]);

const MAPPED = new Set([
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "response_format",
  "n",
  "logprobs",
  "top_logprobs",
  "logit_bias",
  "modalities",
]);

/** Reads an OpenAI chat completions request into the hub; `target` names the provider for errors. */
export function decodeOpenAIRequest(body: unknown, target: string): HubRequest {
  if (!isRecord(body)) throw invalid("body", "the request body must be a JSON object");
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined || DROPPED.has(key)) continue;
    if (!MAPPED.has(key)) throw unsupported(key, target);
  }
  if ((num(body.n) ?? 1) > 1) throw unsupported("n > 1", target);
  if (body.logprobs === true) throw unsupported("logprobs", target);
  if (body.top_logprobs != null) throw unsupported("top_logprobs", target);
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0)
    throw unsupported("logit_bias", target);
  const modalities = arr(body.modalities) ?? [];
  if (modalities.some((m) => m !== "text")) throw unsupported("modalities other than text", target);

  const { system, messages } = decodeMessages(body.messages, target);
  const hub: HubRequest = {
    client: "openai",
    system,
    messages,
    tools: decodeTools(body.tools, target),
    stop: decodeStop(body.stop),
  };
  const maxTokens = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (maxTokens !== undefined) hub.maxTokens = maxTokens;
  assign(hub, "temperature", num(body.temperature));
  assign(hub, "topP", num(body.top_p));
  assign(hub, "seed", num(body.seed));
  assign(hub, "presencePenalty", num(body.presence_penalty));
  assign(hub, "frequencyPenalty", num(body.frequency_penalty));
  const toolChoice = decodeToolChoice(body.tool_choice, target);
  if (toolChoice) hub.toolChoice = toolChoice;
  if (body.parallel_tool_calls === false) hub.parallelToolCalls = false;
  decodeResponseFormat(body.response_format, hub, target);
  return hub;
}

function assign<K extends keyof HubRequest>(hub: HubRequest, key: K, value: HubRequest[K] | undefined): void {
  if (value !== undefined) hub[key] = value;
}

function decodeStop(stop: unknown): string[] {
  if (typeof stop === "string") return [stop];
  return (arr(stop) ?? []).filter((s): s is string => typeof s === "string");
}

function decodeMessages(raw: unknown, target: string): { system: HubText[]; messages: HubMessage[] } {
  const list = arr(raw);
  if (!list) throw invalid("messages", "messages must be an array");
  const system: HubText[] = [];
  const messages: HubMessage[] = [];
  for (const item of list) {
    const m = rec(item);
    if (!m) throw invalid("messages", "each message must be an object");
    const role = str(m.role);
    switch (role) {
      case "system":
      case "developer": {
        const texts = decodeTextContent(m.content, `${role} message`, target);
        // Instructions before the conversation are the system prompt; later ones stay in place.
        if (messages.length === 0) system.push(...texts);
        else messages.push({ role: "system", content: texts });
        break;
      }
      case "user":
        messages.push({ role: "user", content: decodeUserContent(m.content, target) });
        break;
      case "assistant":
        messages.push({ role: "assistant", content: decodeAssistant(m, target) });
        break;
      case "tool": {
        const toolUseId = str(m.tool_call_id);
        if (toolUseId === undefined) throw invalid("tool_call_id", "tool messages need a tool_call_id");
        const content = decodeTextContent(m.content, "tool message", target);
        messages.push({
          role: "user",
          content: [{ type: "tool_result", toolUseId, content, isError: false }],
        });
        break;
      }
      case "function":
        throw unsupported("function role messages (legacy function calling)", target);
      default:
        throw invalid("messages", `unknown message role ${JSON.stringify(role)}`);
    }
  }
  return { system, messages };
}

function decodeTextContent(content: unknown, where: string, target: string): HubText[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (content === null || content === undefined) return [];
  const parts = arr(content);
  if (!parts) throw invalid("content", `${where} content must be a string or an array`);
  return parts.map((p) => {
    const part = rec(p);
    if (part?.type === "text" && typeof part.text === "string") return { type: "text", text: part.text };
    throw unsupported(`${String(part?.type)} content part in a ${where}`, target);
  });
}

function decodeUserContent(content: unknown, target: string): HubPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  const parts = arr(content);
  if (!parts) throw invalid("content", "user message content must be a string or an array");
  return parts.map((p): HubPart => {
    const part = rec(p) ?? {};
    if (part.type === "text" && typeof part.text === "string") return { type: "text", text: part.text };
    if (part.type === "image_url") return decodeImage(part.image_url);
    throw unsupported(`${String(part.type)} content part`, target);
  });
}

function decodeImage(raw: unknown): HubImage {
  const url = str(rec(raw)?.url);
  if (url === undefined) throw invalid("image_url", "image_url parts need image_url.url");
  if (url.startsWith("data:")) {
    const data = parseDataUrl(url);
    if (!data) throw invalid("image_url", "image_url data URLs must be base64 encoded");
    return { type: "image", source: { kind: "base64", mediaType: data.mediaType, data: data.data } };
  }
  return { type: "image", source: { kind: "url", url } };
}

function decodeAssistant(m: JsonObject, target: string): HubPart[] {
  if (m.function_call != null) throw unsupported("function_call (legacy function calling)", target);
  if (m.audio != null) throw unsupported("assistant audio", target);
  const parts: HubPart[] = [];
  if (typeof m.content === "string") parts.push({ type: "text", text: m.content });
  else if (m.content != null) {
    for (const p of arr(m.content) ?? []) {
      const part = rec(p) ?? {};
      if (part.type === "text" && typeof part.text === "string")
        parts.push({ type: "text", text: part.text });
      else if (part.type === "refusal" && typeof part.refusal === "string")
        parts.push({ type: "text", text: part.refusal });
      else throw unsupported(`${String(part.type)} content part in an assistant message`, target);
    }
  }
  if (typeof m.refusal === "string" && m.refusal !== "") parts.push({ type: "text", text: m.refusal });
  for (const raw of arr(m.tool_calls) ?? []) parts.push(decodeToolCall(raw, target));
  return parts;
}

function decodeToolCall(raw: unknown, target: string): HubToolUse {
  const call = rec(raw) ?? {};
  if (call.type !== undefined && call.type !== "function")
    throw unsupported(`${String(call.type)} tool calls`, target);
  const fn = rec(call.function) ?? {};
  const id = str(call.id);
  const name = str(fn.name);
  if (id === undefined || name === undefined)
    throw invalid("tool_calls", "tool calls need an id and a function name");
  const args = str(fn.arguments) ?? "";
  const input = args.trim() === "" ? {} : tryParseJson(args);
  if (!isRecord(input)) {
    throw invalid("tool_calls", `the arguments of tool call ${JSON.stringify(id)} are not a JSON object`);
  }
  return { type: "tool_use", id, name, input };
}

const TOOL_KEYS = new Set(["name", "description", "parameters", "strict"]);

function decodeTools(raw: unknown, target: string): HubTool[] {
  return (arr(raw) ?? []).map((t): HubTool => {
    const tool = rec(t) ?? {};
    if (tool.type !== "function") throw unsupported(`${String(tool.type)} tools`, target);
    const fn = rec(tool.function) ?? {};
    rejectUnknownKeys(fn, TOOL_KEYS, "tools.function", target);
    const name = str(fn.name);
    if (name === undefined) throw invalid("tools", "every tool needs function.name");
    const out: HubTool = { name, parameters: rec(fn.parameters) ?? { type: "object", properties: {} } };
    const description = str(fn.description);
    if (description !== undefined) out.description = description;
    const strict = bool(fn.strict);
    if (strict !== undefined) out.strict = strict;
    return out;
  });
}

function decodeToolChoice(raw: unknown, target: string): HubToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === "auto" || raw === "none" || raw === "required") return { type: raw };
  const choice = rec(raw);
  const name = str(rec(choice?.function)?.name);
  if (choice?.type === "function" && name !== undefined) return { type: "tool", name };
  throw unsupported(`tool_choice ${String(choice?.type ?? raw)}`, target);
}

function decodeResponseFormat(raw: unknown, hub: HubRequest, target: string): void {
  const format = rec(raw);
  if (!format || format.type === "text") return;
  if (format.type === "json_object") {
    hub.responseFormat = { type: "json_object" };
    return;
  }
  if (format.type === "json_schema") {
    const spec = rec(format.json_schema) ?? {};
    const schema = rec(spec.schema);
    if (!schema) throw invalid("response_format", "response_format json_schema needs json_schema.schema");
    hub.responseFormat = { type: "json_schema", name: str(spec.name) ?? "response", schema };
    const strict = bool(spec.strict);
    if (strict !== undefined) hub.responseFormat.strict = strict;
    return;
  }
  throw unsupported(`response_format ${String(format.type)}`, target);
}

// ---------------------------------------------------------------------------------------------
// hub -> OpenAI request (an Anthropic client served by an OpenAI-compatible provider)

export function encodeOpenAIRequest(hub: HubRequest, opts: { model: string; stream: boolean }): JsonObject {
  const target = "openai";
  if (hub.topK !== undefined) throw unsupported("top_k", target);
  const messages: JsonObject[] = [];
  if (hub.system.length > 0) messages.push({ role: "system", content: textOf(hub.system, "\n\n") });
  for (const message of hub.messages) messages.push(...encodeMessage(message, target));

  // max_completion_tokens is the current name; reasoning models reject the older max_tokens.
  const out: JsonObject = { model: opts.model, messages };
  if (hub.maxTokens !== undefined) out.max_completion_tokens = hub.maxTokens;
  if (hub.temperature !== undefined) out.temperature = hub.temperature;
  if (hub.topP !== undefined) out.top_p = hub.topP;
  if (hub.stop.length > 0) out.stop = hub.stop;
  if (hub.seed !== undefined) out.seed = hub.seed;
  if (hub.presencePenalty !== undefined) out.presence_penalty = hub.presencePenalty;
  if (hub.frequencyPenalty !== undefined) out.frequency_penalty = hub.frequencyPenalty;
  if (hub.tools.length > 0) {
    out.tools = hub.tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters,
        ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
      },
    }));
    if (hub.parallelToolCalls === false) out.parallel_tool_calls = false;
  }
  if (hub.toolChoice) {
    const choice = hub.toolChoice;
    out.tool_choice =
      choice.type === "tool" ? { type: "function", function: { name: choice.name } } : choice.type;
  }
  if (hub.responseFormat?.type === "json_object") out.response_format = { type: "json_object" };
  if (hub.responseFormat?.type === "json_schema") {
    const { name, schema, strict } = hub.responseFormat;
    out.response_format = {
      type: "json_schema",
      json_schema: { name, schema, ...(strict !== undefined ? { strict } : {}) },
    };
  }
  if (opts.stream) {
    out.stream = true;
    // Without it the stream carries no usage, and the client's final usage would be unknown.
    out.stream_options = { include_usage: true };
  }
  return out;
}

function encodeMessage(message: HubMessage, target: string): JsonObject[] {
  if (message.role === "system") return [{ role: "system", content: textOf(message.content, "\n\n") }];
  if (message.role === "assistant") {
    const text = textOf(message.content);
    const calls = message.content.filter((p): p is HubToolUse => p.type === "tool_use");
    if (message.content.some((p) => p.type === "image"))
      throw unsupported("images in assistant turns", target);
    const out: JsonObject = { role: "assistant", content: text === "" && calls.length > 0 ? null : text };
    if (calls.length > 0) {
      out.tool_calls = calls.map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: JSON.stringify(call.input) },
      }));
    }
    return [out];
  }
  // Tool results become `tool` messages, which OpenAI wants right after the assistant's calls.
  const out: JsonObject[] = [];
  const rest: JsonObject[] = [];
  for (const part of message.content) {
    if (part.type === "tool_result") {
      if (part.content.some((p) => p.type === "image")) throw unsupported("images in tool results", target);
      out.push({
        role: "tool",
        tool_call_id: part.toolUseId,
        content: toolResultText(part.content, part.isError),
      });
    } else if (part.type === "text") rest.push({ type: "text", text: part.text });
    else if (part.type === "image") {
      const src = part.source;
      const url = src.kind === "base64" ? toDataUrl(src.mediaType, src.data) : src.url;
      rest.push({ type: "image_url", image_url: { url } });
    }
  }
  if (rest.length > 0) {
    const [first] = rest;
    out.push({ role: "user", content: rest.length === 1 && first?.type === "text" ? first.text : rest });
  }
  return out;
}
