// Gemini generateContent <-> hub: request bodies and non-streamed responses.
// Reference: Gemini REST API (GenerateContentRequest / GenerateContentResponse), googleapis/js-genai types.
// The model travels in the URL path, which the caller builds; the body never names it.
import { unsupported } from "./errors.js";
import { mergeConsecutive, remoteImageFeature, textOf, toolNameFor, toolNamesById } from "./hub-util.js";
import type {
  HubImage,
  HubPart,
  HubRequest,
  HubResponse,
  HubStop,
  HubText,
  HubToolUse,
  TokenUsage,
  ToolIdMinter,
} from "./hub.js";
import { mediaTypeFromUrl } from "./media.js";
import { arr, num, rec, str, type JsonObject } from "./narrow.js";

const TARGET = "google";

/**
 * Gemini 3 rejects replayed function calls without the thought signature it issued, and a
 * client of another format cannot hand it back. Google documents this value for histories
 * the signature could not travel with; older models ignore it.
 */
export const SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator";

export function encodeGeminiRequest(hub: HubRequest): JsonObject {
  if (hub.parallelToolCalls === false && hub.tools.length > 0)
    throw unsupported("parallel_tool_calls: false", TARGET);
  const names = toolNamesById(hub.messages);
  // Gemini has one system instruction: later system turns join it, in order.
  const system: HubText[] = [...hub.system];
  const turns: { role: "user" | "model"; parts: JsonObject[] }[] = [];
  for (const message of hub.messages) {
    if (message.role === "system") {
      system.push(...message.content.filter((p): p is HubText => p.type === "text"));
      continue;
    }
    const parts = message.content
      .map((part) => encodePart(part, hub, names))
      .filter((p): p is JsonObject => p !== undefined);
    if (parts.length > 0) turns.push({ role: message.role === "assistant" ? "model" : "user", parts });
  }
  const contents = mergeConsecutive(turns).map((turn) => {
    const firstCall = turn.parts.find((p) => p.functionCall !== undefined);
    if (turn.role === "model" && firstCall) firstCall.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
    return { role: turn.role, parts: turn.parts };
  });

  const out: JsonObject = { contents };
  const systemText = system.filter((s) => s.text !== "");
  if (systemText.length > 0) out.systemInstruction = { parts: systemText.map((s) => ({ text: s.text })) };
  const config = generationConfig(hub);
  if (Object.keys(config).length > 0) out.generationConfig = config;
  if (hub.tools.length > 0) {
    // parametersJsonSchema takes JSON Schema as the client wrote it (parameters wants an OpenAPI subset).
    // A tool's `strict` flag has no Gemini counterpart and is left out: the schema still goes along.
    out.tools = [
      {
        functionDeclarations: hub.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          parametersJsonSchema: tool.parameters,
        })),
      },
    ];
  }
  const choice = hub.toolChoice;
  if (choice) {
    const mode = choice.type === "auto" ? "AUTO" : choice.type === "none" ? "NONE" : "ANY";
    out.toolConfig = {
      functionCallingConfig: {
        mode,
        ...(choice.type === "tool" ? { allowedFunctionNames: [choice.name] } : {}),
      },
    };
  }
  return out;
}

function generationConfig(hub: HubRequest): JsonObject {
  const config: JsonObject = {};
  if (hub.temperature !== undefined) config.temperature = hub.temperature;
  if (hub.topP !== undefined) config.topP = hub.topP;
  if (hub.topK !== undefined) config.topK = hub.topK;
  if (hub.maxTokens !== undefined) config.maxOutputTokens = hub.maxTokens;
  if (hub.stop.length > 0) config.stopSequences = hub.stop;
  if (hub.seed !== undefined) config.seed = hub.seed;
  if (hub.presencePenalty !== undefined) config.presencePenalty = hub.presencePenalty;
  if (hub.frequencyPenalty !== undefined) config.frequencyPenalty = hub.frequencyPenalty;
  if (hub.responseFormat) {
    config.responseMimeType = "application/json";
    if (hub.responseFormat.type === "json_schema") config.responseJsonSchema = hub.responseFormat.schema;
  }
  return config;
}

function encodePart(part: HubPart, hub: HubRequest, names: Map<string, string>): JsonObject | undefined {
  switch (part.type) {
    case "text":
      return part.text === "" ? undefined : { text: part.text };
    case "image":
      return encodeImage(part, hub);
    case "tool_use":
      // Gemini pairs calls and responses by name and order; an `id` in a request is refused.
      return { functionCall: { name: part.name, args: part.input } };
    case "tool_result": {
      if (part.content.some((p) => p.type === "image")) throw unsupported("images in tool results", TARGET);
      const text = textOf(part.content, "\n");
      // Google's documented keys: "output" for a result, "error" for a failure.
      const response = part.isError ? { error: text } : { output: text };
      return { functionResponse: { name: toolNameFor(names, part.toolUseId, TARGET), response } };
    }
  }
}

function encodeImage(part: HubImage, hub: HubRequest): JsonObject {
  const src = part.source;
  if (src.kind === "base64") return { inlineData: { mimeType: src.mediaType, data: src.data } };
  const mimeType = mediaTypeFromUrl(src.url);
  if (mimeType === undefined) {
    throw unsupported(
      `${remoteImageFeature(hub.client)} whose image type is not named by its extension`,
      TARGET,
    );
  }
  return { fileData: { mimeType, fileUri: src.url } };
}

// ---------------------------------------------------------------------------------------------
// responses

const FILTERED = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"]);

/** Gemini says STOP after a function call too; the presence of calls decides "tool_use". */
export function geminiFinishToHub(reason: string | undefined, sawToolCall: boolean): HubStop {
  if (reason === "MAX_TOKENS") return "max_tokens";
  if (reason !== undefined && FILTERED.has(reason)) return "content_filter";
  return sawToolCall ? "tool_use" : "end_turn";
}

/** promptTokenCount includes cached tokens; thinking tokens are billed as output. */
export function geminiUsageToHub(raw: unknown): TokenUsage {
  const usage = rec(raw) ?? {};
  const cached = num(usage.cachedContentTokenCount) ?? 0;
  return {
    inputTokens:
      Math.max(0, (num(usage.promptTokenCount) ?? 0) - cached) + (num(usage.toolUsePromptTokenCount) ?? 0),
    outputTokens: (num(usage.candidatesTokenCount) ?? 0) + (num(usage.thoughtsTokenCount) ?? 0),
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}

/** Text and function calls of one response chunk; thought summaries are left out. */
export function geminiParts(body: unknown): {
  text: string;
  calls: { id?: string; name: string; args: unknown }[];
} {
  const candidate = rec(arr(rec(body)?.candidates)?.[0]);
  let text = "";
  const calls: { id?: string; name: string; args: unknown }[] = [];
  for (const p of arr(rec(candidate?.content)?.parts) ?? []) {
    const part = rec(p) ?? {};
    if (typeof part.text === "string" && part.thought !== true) text += part.text;
    const call = rec(part.functionCall);
    if (call) {
      const id = str(call.id);
      calls.push({ ...(id !== undefined ? { id } : {}), name: str(call.name) ?? "", args: call.args ?? {} });
    }
  }
  return { text, calls };
}

/** The finish reason of a chunk, counting a blocked prompt as filtered. */
export function geminiFinishReason(body: unknown): string | undefined {
  const candidate = rec(arr(rec(body)?.candidates)?.[0]);
  const reason = str(candidate?.finishReason);
  if (reason !== undefined) return reason;
  return str(rec(rec(body)?.promptFeedback)?.blockReason) !== undefined ? "SAFETY" : undefined;
}

export function decodeGeminiResponse(body: unknown, mintId: ToolIdMinter): HubResponse {
  const { text, calls } = geminiParts(body);
  const content: (HubText | HubToolUse)[] = [];
  if (text !== "") content.push({ type: "text", text });
  calls.forEach((call, index) => {
    content.push({ type: "tool_use", id: call.id ?? mintId(index), name: call.name, input: call.args });
  });
  return {
    content,
    stop: geminiFinishToHub(geminiFinishReason(body), calls.length > 0),
    usage: geminiUsageToHub(rec(body)?.usageMetadata),
  };
}
