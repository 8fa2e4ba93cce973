// Shared shapes of the fake upstream: what a route handler receives and what it answers.
import type { WireFamily } from "../../server/src/providers/types.js";

export type { WireFamily };

/** Every route the fake serves, named like providers/types.ts `Api` where one exists. */
export type FakeRoute =
  | "openai.chat"
  | "openai.responses"
  | "openai.embeddings"
  | "openai.models"
  | "anthropic.messages"
  | "anthropic.count_tokens"
  | "anthropic.models"
  | "google.generate"
  | "google.count_tokens"
  | "google.embed"
  | "google.batch_embed"
  | "google.models"
  | "ollama.chat"
  | "ollama.generate"
  | "ollama.embed"
  | "ollama.embeddings"
  | "ollama.tags"
  | "ollama.version";

/** Where a fault applies: one route, every route of a family, or (absent) everything. */
export type FaultScope = FakeRoute | WireFamily;

/** Token counts the fake reports, placed verbatim in each provider's own usage fields. */
export interface FakeUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  /** The body exactly as received. */
  raw: string;
  route: FakeRoute | undefined;
  family: WireFamily | undefined;
  stream: boolean;
}

/** One streamed unit: an SSE event (optionally named) or one NDJSON line. */
export interface StreamEvent {
  event?: string;
  data: string;
}

/** How stream events are framed on the wire. */
export type Framing = "sse" | "sse-crlf" | "ndjson";

export type Reply =
  | { kind: "json"; status: number; headers: Record<string, string>; body: unknown }
  | { kind: "text"; status: number; headers: Record<string, string>; body: string }
  | {
      kind: "stream";
      status: number;
      headers: Record<string, string>;
      framing: Framing;
      events: StreamEvent[];
    };

/** Everything a route handler needs; handlers are pure functions of this. */
export interface HandlerContext {
  body: Record<string, unknown>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The model named in the path (Gemini) or body. */
  model: string;
  stream: boolean;
  usage: FakeUsage;
  /** How many content pieces a streamed answer is cut into. */
  pieces: number;
  /** Forced number of tool calls, or undefined to decide from the request. */
  toolCalls: number | undefined;
  models: string[];
  /** A fresh id with the given prefix, unique per fake instance. */
  id(prefix: string): string;
  /** Unix seconds. */
  now: number;
}

/** Options for an error answer in a provider's own shape. */
export interface ErrorOptions {
  status: number;
  message?: string;
  /** Seconds; sent as Retry-After (Gemini: RetryInfo in the body instead). */
  retryAfter?: number;
  /** The model the request named, for messages that mention it. */
  model?: string;
}

export interface RouteMatch {
  /** Model named in the path (Gemini), else "". */
  model: string;
  /** Whether the path itself selects streaming (Gemini's :streamGenerateContent). */
  stream?: boolean;
}

export interface RouteDef {
  route: FakeRoute;
  method: "GET" | "POST";
  match(path: string, headers: Record<string, string>, query: Record<string, string>): RouteMatch | undefined;
  /** Whether the body asks for a stream (when the path does not decide). */
  isStream(body: Record<string, unknown>): boolean;
  handle(ctx: HandlerContext): Reply;
  /**
   * The events a stream of this route carries when it fails after the headers went out,
   * given the events already sent. Absent for routes that never stream.
   */
  streamError?(ctx: HandlerContext, sent: number): StreamEvent[];
}

export interface FamilyDef {
  family: WireFamily;
  routes: RouteDef[];
  /** Undefined when the request may proceed; otherwise the provider's own rejection. */
  authenticate(
    headers: Record<string, string>,
    query: Record<string, string>,
    expected: string | undefined,
  ): Reply | undefined;
  error(opts: ErrorOptions): Reply;
}
