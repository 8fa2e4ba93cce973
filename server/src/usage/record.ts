// The in-memory shape of one request's usage, produced on the hot path and queued for the writer.

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface AttemptRecord {
  providerId: string;
  model: string;
  statusCode: number;
  latencyMs: number;
  errorClass: string;
}

export interface CaptureRecord {
  requestBody: string;
  responseBody: string;
  truncated: boolean;
}

export interface UsageRecord extends TokenUsage {
  /** The request id (x-request-id). */
  id: string;
  time: Date;
  instanceId: string;
  keyId: string;
  providerId: string;
  /** Wire format the client spoke (see providers/types.ts Api). */
  api: string;
  requestedModel: string;
  servedModel: string;
  /** Null when the model's price is unknown; never 0 for "unknown". */
  costUsd: number | null;
  statusCode: number;
  /** Empty on success. */
  errorClass: string;
  latencyMs: number;
  ttfbMs: number | null;
  stream: boolean;
  clientIp: string;
  userAgent: string;
  fallback: boolean;
  attempts: AttemptRecord[];
  replicaId: string;
  capture?: CaptureRecord;
  /** Time spent inside keygate, excluding upstream (not stored; for metrics). */
  overheadMs?: number;
}
