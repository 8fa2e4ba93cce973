// Anthropic Messages requests <-> hub.
// Reference: @anthropic-ai/sdk MessageCreateParams types.
import { invalid, unsupported } from "./errors.js";
import { mergeConsecutive, rejectUnknownKeys, remoteImageFeature } from "./hub-util.js";
import type { HubImage, HubMessage, HubPart, HubRequest, HubText, HubTool, HubToolChoice } from "./hub.js";
import { arr, bool, isRecord, num, rec, str, type JsonObject } from "./narrow.js";

// Dropped on purpose; none changes what the model generates:
//   model, stream        replaced by the gateway's routing decision
//   metadata (user_id)   caller identification for Anthropic's abuse tracking
//   service_tier         Anthropic-side capacity tier
//   cache_control        prompt-caching hints (top level and on blocks and tools)
//   thinking / redacted_thinking blocks in earlier assistant turns: the model's own prior
//                        reasoning, meaningful only to Anthropic models
//   citations on text blocks: source attributions of earlier answers
const DROPPED = new Set(["model", "stream", "metadata", "service_tier", "cache_control"]);

const MAPPED = new Set([
  "max_tokens",
  "messages",
  "system",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "tools",
  "tool_choice",
  "thinking",
  "output_config",
]);

/** Requests without max_tokens (optional in OpenAI) get this; every Claude model allows it. */
export const DEFAULT_MAX_TOKENS = 4096;

export function decodeAnthropicRequest(body: unknown, target: string): HubRequest {
  if (!isRecord(body)) throw invalid("body", "the request body must be a JSON object");
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined || DROPPED.has(key)) continue;
    if (!MAPPED.has(key)) throw unsupported(key, target);
  }
  const thinking = rec(body.thinking);
  if (thinking && thinking.type !== "disabled") throw unsupported("thinking", target);

  const hub: HubRequest = {
    client: "anthropic",
    system: decodeSystem(body.system, target),
    messages: decodeMessages(body.messages, target),
    tools: decodeTools(body.tools, target),
    stop: (arr(body.stop_sequences) ?? []).filter((s): s is string => typeof s === "string"),
  };
  const maxTokens = num(body.max_tokens);
  if (maxTokens !== undefined) hub.maxTokens = maxTokens;
  const temperature = num(body.temperature);
  if (temperature !== undefined) hub.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined) hub.topP = topP;
  const topK = num(body.top_k);
  if (topK !== undefined) hub.topK = topK;
  decodeToolChoice(body.tool_choice, hub);
  decodeOutputConfig(body.output_config, hub, target);
  return hub;
}

function decodeSystem(raw: unknown, target: string): HubText[] {
  if (typeof raw === "string") return raw === "" ? [] : [{ type: "text", text: raw }];
  return (arr(raw) ?? []).map((b) => {
    const block = rec(b) ?? {};
    if (block.type === "text" && typeof block.text === "string") return { type: "text", text: block.text };
    throw unsupported(`${String(block.type)} blocks in system`, target);
  });
}

function decodeMessages(raw: unknown, target: string): HubMessage[] {
  const list = arr(raw);
  if (!list) throw invalid("messages", "messages must be an array");
  return list.map((item): HubMessage => {
    const m = rec(item);
    const role = str(m?.role);
    if (!m || (role !== "user" && role !== "assistant" && role !== "system")) {
      throw invalid("messages", `unknown message role ${JSON.stringify(role)}`);
    }
    return { role, content: decodeContent(m.content, target) };
  });
}

function decodeContent(raw: unknown, target: string): HubPart[] {
  if (typeof raw === "string") return [{ type: "text", text: raw }];
  const blocks = arr(raw);
  if (!blocks) throw invalid("content", "message content must be a string or an array of blocks");
  const parts: HubPart[] = [];
  for (const b of blocks) {
    const block = rec(b) ?? {};
    switch (block.type) {
      case "text":
        parts.push({ type: "text", text: str(block.text) ?? "" });
        break;
      case "image":
        parts.push(decodeImage(block, target));
        break;
      case "tool_use": {
        const id = str(block.id);
        const name = str(block.name);
        if (id === undefined || name === undefined)
          throw invalid("tool_use", "tool_use blocks need an id and a name");
        parts.push({ type: "tool_use", id, name, input: block.input ?? {} });
        break;
      }
      case "tool_result": {
        const toolUseId = str(block.tool_use_id);
        if (toolUseId === undefined) throw invalid("tool_result", "tool_result blocks need a tool_use_id");
        parts.push({
          type: "tool_result",
          toolUseId,
          content: decodeToolResultContent(block.content, target),
          isError: block.is_error === true,
        });
        break;
      }
      case "thinking":
      case "redacted_thinking":
        break;
      default:
        throw unsupported(`${String(block.type)} content blocks`, target);
    }
  }
  return parts;
}

function decodeImage(block: JsonObject, target: string): HubImage {
  const source = rec(block.source) ?? {};
  if (source.type === "base64") {
    return {
      type: "image",
      source: { kind: "base64", mediaType: str(source.media_type) ?? "", data: str(source.data) ?? "" },
    };
  }
  if (source.type === "url" && typeof source.url === "string") {
    return { type: "image", source: { kind: "url", url: source.url } };
  }
  throw unsupported(`image source of type ${String(source.type)}`, target);
}

function decodeToolResultContent(raw: unknown, target: string): (HubText | HubImage)[] {
  if (typeof raw === "string") return [{ type: "text", text: raw }];
  return (arr(raw) ?? []).map((b) => {
    const block = rec(b) ?? {};
    if (block.type === "text") return { type: "text", text: str(block.text) ?? "" };
    if (block.type === "image") return decodeImage(block, target);
    throw unsupported(`${String(block.type)} blocks in tool results`, target);
  });
}

const TOOL_KEYS = new Set(["name", "description", "input_schema", "strict", "type", "cache_control"]);

function decodeTools(raw: unknown, target: string): HubTool[] {
  return (arr(raw) ?? []).map((t): HubTool => {
    const tool = rec(t) ?? {};
    if (tool.type != null && tool.type !== "custom") throw unsupported(`${String(tool.type)} tools`, target);
    rejectUnknownKeys(tool, TOOL_KEYS, "tools", target);
    const name = str(tool.name);
    if (name === undefined) throw invalid("tools", "every tool needs a name");
    const out: HubTool = { name, parameters: rec(tool.input_schema) ?? { type: "object", properties: {} } };
    const description = str(tool.description);
    if (description !== undefined) out.description = description;
    const strict = bool(tool.strict);
    if (strict !== undefined) out.strict = strict;
    return out;
  });
}

function decodeToolChoice(raw: unknown, hub: HubRequest): void {
  const choice = rec(raw);
  if (!choice) return;
  let mapped: HubToolChoice | undefined;
  if (choice.type === "auto" || choice.type === "none") mapped = { type: choice.type };
  else if (choice.type === "any") mapped = { type: "required" };
  else if (choice.type === "tool") mapped = { type: "tool", name: str(choice.name) ?? "" };
  else throw invalid("tool_choice", `unknown tool_choice type ${JSON.stringify(choice.type)}`);
  hub.toolChoice = mapped;
  if (choice.disable_parallel_tool_use === true) hub.parallelToolCalls = false;
}

function decodeOutputConfig(raw: unknown, hub: HubRequest, target: string): void {
  const config = rec(raw);
  if (!config) return;
  for (const key of Object.keys(config)) {
    if (key !== "format" && config[key] != null) throw unsupported(`output_config.${key}`, target);
  }
  const format = rec(config.format);
  if (!format) return;
  const schema = rec(format.schema);
  if (format.type !== "json_schema" || !schema)
    throw unsupported(`output_config.format ${String(format.type)}`, target);
  hub.responseFormat = { type: "json_schema", name: "response", schema };
}

// ---------------------------------------------------------------------------------------------
// hub -> Anthropic request (an OpenAI client served by Anthropic)

const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

export function encodeAnthropicRequest(
  hub: HubRequest,
  opts: { model: string; stream: boolean },
): JsonObject {
  const target = "anthropic";
  if (hub.seed !== undefined) throw unsupported("seed", target);
  if (hub.presencePenalty !== undefined) throw unsupported("presence_penalty", target);
  if (hub.frequencyPenalty !== undefined) throw unsupported("frequency_penalty", target);
  if (hub.temperature !== undefined && hub.temperature > 1) throw unsupported("temperature above 1", target);
  if (hub.responseFormat?.type === "json_object") throw unsupported("response_format json_object", target);

  // Anthropic has one system prompt: later system turns join it, in order.
  const system = [...hub.system];
  const turns: { role: "user" | "assistant"; parts: JsonObject[] }[] = [];
  for (const message of hub.messages) {
    if (message.role === "system") {
      system.push(...message.content.filter((p): p is HubText => p.type === "text"));
      continue;
    }
    const parts = message.content
      .map((part) => encodeBlock(part, hub, target))
      .filter((b) => b !== undefined);
    if (parts.length > 0) turns.push({ role: message.role, parts });
  }
  const messages = mergeConsecutive(turns).map((turn) => ({
    role: turn.role,
    // Anthropic wants a user turn's tool results before any other block.
    content: [...turn.parts].sort((a, b) => rank(a) - rank(b)),
  }));

  const out: JsonObject = { model: opts.model, max_tokens: hub.maxTokens ?? DEFAULT_MAX_TOKENS, messages };
  const systemBlocks = system.filter((s) => s.text !== "").map((s) => ({ type: "text", text: s.text }));
  if (systemBlocks.length > 0) out.system = systemBlocks;
  if (hub.temperature !== undefined) out.temperature = hub.temperature;
  if (hub.topP !== undefined) out.top_p = hub.topP;
  if (hub.topK !== undefined) out.top_k = hub.topK;
  if (hub.stop.length > 0) out.stop_sequences = hub.stop;
  if (hub.tools.length > 0) {
    out.tools = hub.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      input_schema: tool.parameters,
      ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
    }));
  }
  const choice = encodeToolChoice(hub);
  if (choice) out.tool_choice = choice;
  if (hub.responseFormat?.type === "json_schema") {
    out.output_config = { format: { type: "json_schema", schema: hub.responseFormat.schema } };
  }
  if (opts.stream) out.stream = true;
  return out;
}

function rank(block: JsonObject): number {
  return block.type === "tool_result" ? 0 : 1;
}

function encodeBlock(part: HubPart, hub: HubRequest, target: string): JsonObject | undefined {
  switch (part.type) {
    case "text":
      // Anthropic rejects empty text blocks; they carry nothing.
      return part.text === "" ? undefined : { type: "text", text: part.text };
    case "image":
      return encodeImage(part, hub, target);
    case "tool_use":
      return { type: "tool_use", id: part.id, name: part.name, input: part.input };
    case "tool_result": {
      const content = part.content
        .map((p) =>
          p.type === "text"
            ? p.text === ""
              ? undefined
              : { type: "text", text: p.text }
            : encodeImage(p, hub, target),
        )
        .filter((b) => b !== undefined);
      return {
        type: "tool_result",
        tool_use_id: part.toolUseId,
        ...(content.length > 0 ? { content } : {}),
        ...(part.isError ? { is_error: true } : {}),
      };
    }
  }
}

function encodeImage(part: HubImage, hub: HubRequest, target: string): JsonObject {
  const src = part.source;
  if (src.kind === "url") {
    if (!/^https?:\/\//i.test(src.url)) throw unsupported(remoteImageFeature(hub.client), target);
    return { type: "image", source: { type: "url", url: src.url } };
  }
  if (!IMAGE_TYPES.has(src.mediaType)) throw unsupported(`image type ${src.mediaType}`, target);
  return { type: "image", source: { type: "base64", media_type: src.mediaType, data: src.data } };
}

function encodeToolChoice(hub: HubRequest): JsonObject | undefined {
  const choice = hub.toolChoice;
  const noParallel = hub.parallelToolCalls === false && hub.tools.length > 0;
  if (!choice) return noParallel ? { type: "auto", disable_parallel_tool_use: true } : undefined;
  if (choice.type === "none") return { type: "none" };
  const base: JsonObject =
    choice.type === "tool"
      ? { type: "tool", name: choice.name }
      : { type: choice.type === "required" ? "any" : "auto" };
  if (noParallel) base.disable_parallel_tool_use = true;
  return base;
}
