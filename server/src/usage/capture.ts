// Conversation capture, opt-in per instance. "full" keeps the request body and the bytes sent back
// to the client (each up to capture.maxBodyBytes); "metadata" keeps the request's parameters with
// every content field replaced by its size, and no response. Secrets are redacted before storage.
import { redactSecrets, redactWith, secretsIn } from "../secrets/redact.js";
import type { CaptureRecord } from "./record.js";

export type CaptureMode = "none" | "metadata" | "full";

export interface Capture {
  /** A copy of bytes sent to the client. */
  response(bytes: Uint8Array): void;
  result(): CaptureRecord;
}

/** Fields that carry conversation content in any of the four wire formats. */
const CONTENT_FIELDS = new Set([
  "messages",
  "input",
  "contents",
  "prompt",
  "system",
  "instructions",
  "systemInstruction",
]);

function summarize(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (CONTENT_FIELDS.has(k)) {
      out[k] = Array.isArray(v) ? `[${v.length} items omitted]` : "[omitted]";
    } else if (k === "tools" && Array.isArray(v)) {
      out.tools = v.map((t) => {
        const o = t as Record<string, unknown>;
        const fn = o.function as Record<string, unknown> | undefined;
        return fn?.name ?? o.name ?? "[tool]";
      });
    } else out[k] = v;
  }
  return out;
}

export function createCapture(
  mode: Exclude<CaptureMode, "none">,
  raw: Buffer,
  body: Record<string, unknown>,
  maxBytes: number,
): Capture {
  let truncated = false;
  let requestBody: string;
  if (mode === "full") {
    truncated = raw.length > maxBytes;
    requestBody = raw.subarray(0, maxBytes).toString("utf8");
  } else {
    requestBody = JSON.stringify(summarize(body));
  }
  const parts: Buffer[] = [];
  let size = 0;
  return {
    response(bytes) {
      if (mode !== "full") return;
      if (size >= maxBytes) {
        truncated = true;
        return;
      }
      const room = maxBytes - size;
      const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, room));
      if (b.length < bytes.byteLength) truncated = true;
      parts.push(Buffer.from(b));
      size += b.length;
    },
    result() {
      // A secret from the prompt can come back split across stream events ("Bearer " | "<token>"),
      // where no pattern matches; the literal values found in the request are cut out as well.
      const known = secretsIn(raw.toString("utf8"));
      return {
        requestBody: redactSecrets(requestBody),
        responseBody: redactWith(Buffer.concat(parts).toString("utf8"), known),
        truncated,
      };
    },
  };
}
