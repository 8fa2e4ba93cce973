// Upstream error bodies -> the client's own error shape, keeping the upstream's message.
//   OpenAI     {error: {message, type, code, param}}
//   Anthropic  {type: "error", error: {type, message}}
//   Gemini     {error: {code, message, status}} (streaming endpoints may wrap it in an array)
//   Ollama     {error: "message"}
import type { ClientFamily, HubError, WireFamily } from "./hub.js";
import { arr, num, parseBody, rec, str, type JsonObject } from "./narrow.js";
import { redactSecrets } from "../secrets/redact.js";

const ANTHROPIC_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

const OPENAI_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  permission_error: 403,
  not_found_error: 404,
  model_not_found: 404,
  rate_limit_exceeded: 429,
  rate_limit_error: 429,
  insufficient_quota: 429,
  server_error: 500,
};

/** The upstream body of `status` in neutral terms. */
export function upstreamErrorToHub(from: WireFamily, status: number, body: unknown): HubError {
  const parsed = parseBody(body);
  const obj = rec(parsed) ?? rec(arr(parsed)?.[0]) ?? {};
  const fallback =
    typeof parsed === "string" && parsed.trim() !== "" ? parsed.trim().slice(0, 500) : undefined;
  const message = (text: string | undefined): string =>
    redactSecrets(text ?? fallback ?? `upstream returned HTTP ${status}`);
  switch (from) {
    case "openai":
      return openAIErrorToHub(obj.error, status, fallback);
    case "anthropic":
      return anthropicErrorToHub(obj.error, status, fallback);
    case "google":
      return googleErrorToHub(obj.error, status, fallback);
    case "ollama":
      return { status, message: message(str(obj.error)) };
  }
}

/** An OpenAI `error` object; a stream carries no status, so the error's type implies one. */
export function openAIErrorToHub(raw: unknown, status?: number, fallback?: string): HubError {
  const error = rec(raw) ?? {};
  const type = str(error.type);
  const code = str(error.code) ?? (num(error.code) !== undefined ? String(error.code) : undefined);
  const implied =
    (code !== undefined ? OPENAI_STATUS[code] : undefined) ??
    (type !== undefined ? OPENAI_STATUS[type] : undefined);
  const out: HubError = {
    status: status ?? implied ?? 500,
    message: redactSecrets(str(error.message) ?? fallback ?? `upstream returned HTTP ${status ?? 500}`),
  };
  if (type !== undefined) out.type = type;
  if (code !== undefined) out.code = code;
  return out;
}

export function anthropicErrorToHub(raw: unknown, status?: number, fallback?: string): HubError {
  const error = rec(raw) ?? {};
  const type = str(error.type);
  const out: HubError = {
    status: status ?? (type !== undefined ? ANTHROPIC_STATUS[type] : undefined) ?? 500,
    message: redactSecrets(str(error.message) ?? fallback ?? `upstream returned HTTP ${status ?? 500}`),
  };
  if (type !== undefined) out.type = type;
  return out;
}

export function googleErrorToHub(raw: unknown, status?: number, fallback?: string): HubError {
  const error = rec(raw) ?? {};
  const out: HubError = {
    status: status ?? num(error.code) ?? 500,
    message: redactSecrets(str(error.message) ?? fallback ?? `upstream returned HTTP ${status ?? 500}`),
  };
  const type = str(error.status);
  if (type !== undefined) out.type = type;
  return out;
}

function anthropicType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 402) return "billing_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  if (status === 504) return "timeout_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

function openAIType(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: "authentication_error", code: "invalid_api_key" };
  if (status === 403) return { type: "permission_error", code: null };
  if (status === 404) return { type: "invalid_request_error", code: "not_found" };
  if (status === 429) return { type: "rate_limit_error", code: "rate_limit_exceeded" };
  if (status >= 500) return { type: "server_error", code: null };
  return { type: "invalid_request_error", code: null };
}

export function hubErrorToOpenAI(error: HubError): JsonObject {
  const { type, code } = openAIType(error.status);
  return { error: { message: error.message, type, code, param: null } };
}

export function hubErrorToAnthropic(error: HubError): JsonObject {
  return { type: "error", error: { type: anthropicType(error.status), message: error.message } };
}

export function encodeClientError(to: ClientFamily, error: HubError): JsonObject {
  return to === "openai" ? hubErrorToOpenAI(error) : hubErrorToAnthropic(error);
}
