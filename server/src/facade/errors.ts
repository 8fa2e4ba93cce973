// Errors in the client's own wire format. Each family's SDK parses its own shape, so an agent sees
// a normal provider error (and retries 429s by itself) rather than a gateway-specific body.
import type { ServerResponse } from "node:http";
import type { WireFamily } from "../providers/types.js";

export type ErrorKind =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "model_not_found"
  | "too_large"
  | "rate_limited"
  | "insufficient_quota"
  | "unavailable"
  | "upstream_error"
  | "upstream_timeout"
  | "internal";

interface KindInfo {
  status: number;
  openaiType: string;
  openaiCode: string | null;
  anthropicType: string;
  googleStatus: string;
}

const KINDS: Record<ErrorKind, KindInfo> = {
  bad_request: {
    status: 400,
    openaiType: "invalid_request_error",
    openaiCode: null,
    anthropicType: "invalid_request_error",
    googleStatus: "INVALID_ARGUMENT",
  },
  unauthorized: {
    status: 401,
    openaiType: "invalid_request_error",
    openaiCode: "invalid_api_key",
    anthropicType: "authentication_error",
    googleStatus: "UNAUTHENTICATED",
  },
  forbidden: {
    status: 403,
    openaiType: "invalid_request_error",
    openaiCode: "model_not_allowed",
    anthropicType: "permission_error",
    googleStatus: "PERMISSION_DENIED",
  },
  not_found: {
    status: 404,
    openaiType: "invalid_request_error",
    openaiCode: "not_found",
    anthropicType: "not_found_error",
    googleStatus: "NOT_FOUND",
  },
  model_not_found: {
    status: 404,
    openaiType: "invalid_request_error",
    openaiCode: "model_not_found",
    anthropicType: "not_found_error",
    googleStatus: "NOT_FOUND",
  },
  too_large: {
    status: 413,
    openaiType: "invalid_request_error",
    openaiCode: "request_too_large",
    anthropicType: "request_too_large",
    googleStatus: "INVALID_ARGUMENT",
  },
  rate_limited: {
    status: 429,
    openaiType: "requests",
    openaiCode: "rate_limit_exceeded",
    anthropicType: "rate_limit_error",
    googleStatus: "RESOURCE_EXHAUSTED",
  },
  insufficient_quota: {
    status: 429,
    openaiType: "insufficient_quota",
    openaiCode: "insufficient_quota",
    anthropicType: "rate_limit_error",
    googleStatus: "RESOURCE_EXHAUSTED",
  },
  unavailable: {
    status: 503,
    openaiType: "server_error",
    openaiCode: "service_unavailable",
    anthropicType: "overloaded_error",
    googleStatus: "UNAVAILABLE",
  },
  upstream_error: {
    status: 502,
    openaiType: "server_error",
    openaiCode: "upstream_error",
    anthropicType: "api_error",
    googleStatus: "UNAVAILABLE",
  },
  upstream_timeout: {
    status: 504,
    openaiType: "server_error",
    openaiCode: "upstream_timeout",
    anthropicType: "api_error",
    googleStatus: "DEADLINE_EXCEEDED",
  },
  internal: {
    status: 500,
    openaiType: "server_error",
    openaiCode: "internal_error",
    anthropicType: "api_error",
    googleStatus: "INTERNAL",
  },
};

/** The error body in the family's own shape. */
export function errorBody(family: WireFamily, kind: ErrorKind, message: string, requestId?: string): string {
  const k = KINDS[kind];
  switch (family) {
    case "openai":
      return JSON.stringify({ error: { message, type: k.openaiType, param: null, code: k.openaiCode } });
    case "anthropic":
      return JSON.stringify({
        type: "error",
        error: { type: k.anthropicType, message },
        ...(requestId ? { request_id: requestId } : {}),
      });
    case "google":
      return JSON.stringify({ error: { code: k.status, message, status: k.googleStatus } });
    case "ollama":
      return JSON.stringify({ error: message });
  }
}

/** Writes a complete error response unless headers already went out. */
export function sendError(
  res: ServerResponse,
  family: WireFamily,
  kind: ErrorKind,
  message: string,
  headers: readonly (readonly [string, string])[] = [],
  requestId?: string,
): number {
  const status = KINDS[kind].status;
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  const body = errorBody(family, kind, message, requestId);
  const out: string[] = [
    "content-type",
    "application/json",
    "content-length",
    String(Buffer.byteLength(body)),
  ];
  for (const [k, v] of headers) out.push(k, v);
  if (requestId) out.push("x-request-id", requestId);
  res.writeHead(status, out);
  res.end(body);
  return status;
}

/**
 * An error delivered inside a stream whose headers already went out, framed as the family's own
 * stream error: Anthropic's `event: error`, an SSE data error object for OpenAI and Gemini, and an
 * NDJSON error line for Ollama.
 */
export function streamErrorEvent(family: WireFamily, kind: ErrorKind, message: string): string {
  const body = errorBody(family, kind, message);
  switch (family) {
    case "anthropic":
      return `event: error\ndata: ${body}\n\n`;
    case "openai":
    case "google":
      return `data: ${body}\n\n`;
    case "ollama":
      return `${body}\n`;
  }
}
