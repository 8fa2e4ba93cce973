// Messages between the gateway and the worker thread that runs embedded PGlite.

export type EmbeddedRequest =
  | { id: number; op: "query"; sql: string; params: unknown[] }
  | { id: number; op: "listen"; channel: string }
  | { id: number; op: "unlisten"; channel: string }
  | { id: number; op: "close" };

/** The fields of a Postgres error that callers look at (SQLSTATE and its details). */
export interface EmbeddedError {
  message: string;
  code?: string;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

export type EmbeddedReply =
  | { kind: "ready" }
  | { kind: "failed"; error: EmbeddedError }
  | { kind: "result"; id: number; rows: unknown[]; affectedRows?: number }
  | { kind: "error"; id: number; error: EmbeddedError }
  | { kind: "done"; id: number }
  | { kind: "notify"; channel: string; payload: string };

export interface EmbeddedWorkerData {
  dir: string;
}

export function toEmbeddedError(err: unknown): EmbeddedError {
  const e = (typeof err === "object" && err !== null ? err : {}) as Record<string, unknown>;
  const out: EmbeddedError = { message: typeof e.message === "string" ? e.message : String(err) };
  for (const k of ["code", "detail", "constraint", "table", "column"] as const) {
    if (typeof e[k] === "string") out[k] = e[k];
  }
  return out;
}
