// The hub: one neutral representation every wire format maps to and from, so adding a
// format means one mapping, not one per pair of formats.
import type { WireFamily } from "../providers/types.js";
import type { TokenUsage } from "../usage/record.js";

/** The formats a client can speak when its request needs translating. */
export type ClientFamily = "openai" | "anthropic";

export interface HubText {
  type: "text";
  text: string;
}

export type HubImageSource =
  { kind: "base64"; mediaType: string; data: string } | { kind: "url"; url: string };

export interface HubImage {
  type: "image";
  source: HubImageSource;
}

export interface HubToolUse {
  type: "tool_use";
  id: string;
  name: string;
  /** The parsed arguments (a JSON object for every well-formed call). */
  input: unknown;
}

export interface HubToolResult {
  type: "tool_result";
  toolUseId: string;
  content: (HubText | HubImage)[];
  isError: boolean;
}

export type HubPart = HubText | HubImage | HubToolUse | HubToolResult;

/**
 * A conversation turn. Tool results travel inside user turns (as Anthropic and Gemini
 * model them); "system" turns are instructions that appear after the conversation began.
 */
export interface HubMessage {
  role: "system" | "user" | "assistant";
  content: HubPart[];
}

export interface HubTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type HubToolChoice =
  { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; name: string };

export type HubResponseFormat =
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict?: boolean };

export interface HubRequest {
  /** Which client format the request came from: error messages use its vocabulary. */
  client: ClientFamily;
  /** Leading system prompt, in order. */
  system: HubText[];
  messages: HubMessage[];
  tools: HubTool[];
  toolChoice?: HubToolChoice;
  /** false: the model may call at most one tool per turn. */
  parallelToolCalls?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stop: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseFormat?: HubResponseFormat;
}

export type HubStop = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "content_filter";

export interface HubResponse {
  content: (HubText | HubToolUse)[];
  stop: HubStop;
  stopSequence?: string;
  usage: TokenUsage;
}

/** An upstream failure in neutral terms (HTTP status plus the upstream's own labels). */
export interface HubError {
  status: number;
  /** The upstream's error type or status string, when it gave one. */
  type?: string;
  code?: string;
  message: string;
}

/** One step of a streamed answer; decoders produce these, encoders consume them. */
export type HubStreamEvent =
  | { type: "start" }
  | { type: "text"; text: string }
  | { type: "tool_start"; index: number; id: string; name: string }
  | { type: "tool_args"; index: number; json: string }
  | { type: "usage"; usage: Partial<TokenUsage> }
  | { type: "finish"; stop: HubStop; stopSequence?: string }
  | { type: "error"; error: HubError }
  | { type: "done" };

/** Turns upstream text (already UTF-8 decoded, split anywhere) into hub events. */
export interface HubStreamDecoder {
  push(text: string): HubStreamEvent[];
  /** The upstream closed: flush anything still buffered. */
  end(): HubStreamEvent[];
}

/** Turns hub events into the client's stream text. */
export interface HubStreamEncoder {
  encode(event: HubStreamEvent): string[];
}

/** Mints a tool-call id when the upstream gives none (Ollama, often Gemini). */
export type ToolIdMinter = (index: number) => string;

export type { WireFamily, TokenUsage };
