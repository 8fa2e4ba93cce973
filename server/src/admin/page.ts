// Page sizes and opaque page tokens (base64url JSON) for List calls.
import type { TimeCursor } from "../store/page.js";
import { invalid } from "./errors.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(requested: number): number {
  if (requested < 0) throw invalid("page_size", "must not be negative");
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

// Each listing tags its tokens so one listing's token is refused by another.
function encode(kind: string, value: unknown): string {
  return Buffer.from(JSON.stringify({ k: kind, v: value }), "utf8").toString("base64url");
}

function decode(kind: string, token: string): unknown {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error();
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof parsed !== "object" || parsed === null) throw new Error();
    const { k, v } = parsed as { k?: unknown; v?: unknown };
    if (k !== kind) throw new Error();
    return v;
  } catch {
    throw invalid("page_token", "not a page token of this listing");
  }
}

export function encodeIdToken(kind: string, id: string | undefined): string {
  return id === undefined ? "" : encode(kind, id);
}

export function decodeIdToken(kind: string, token: string): string | undefined {
  if (!token) return undefined;
  const v = decode(kind, token);
  if (typeof v !== "string") throw invalid("page_token", "not a page token of this listing");
  return v;
}

export function encodeTimeToken(kind: string, c: TimeCursor | undefined): string {
  return c === undefined ? "" : encode(kind, [c.time.toISOString(), c.id]);
}

export function decodeTimeToken(kind: string, token: string): TimeCursor | undefined {
  if (!token) return undefined;
  const v = decode(kind, token);
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string") {
    const time = new Date(v[0]);
    if (!Number.isNaN(time.getTime())) return { time, id: v[1] };
  }
  throw invalid("page_token", "not a page token of this listing");
}

/** Offset tokens, for listings assembled in memory (config plus database providers). */
export function encodeOffsetToken(kind: string, offset: number | undefined): string {
  return offset === undefined ? "" : encode(kind, offset);
}

export function decodeOffsetToken(kind: string, token: string): number {
  if (!token) return 0;
  const v = decode(kind, token);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw invalid("page_token", "not a page token of this listing");
  }
  return v;
}
