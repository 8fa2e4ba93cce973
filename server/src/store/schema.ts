// Table types for kysely. One schema serves Postgres and PGlite.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** JSON stored in a jsonb column: written as a string, read back parsed. */
export type Json<T> = ColumnType<T, string, string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface RateLimitJson {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  tokensPerHour?: number;
  tokensPerDay?: number;
  maxConcurrent?: number;
}

export interface BudgetJson {
  window: "daily" | "weekly" | "monthly" | "total";
  limitUsd: number;
}

export interface PolicyJson {
  allowedModels: string[];
  rateLimit: RateLimitJson;
  budgets: BudgetJson[];
}

export interface InstancesTable {
  id: string;
  display_name: string;
  labels: Json<Record<string, string>>;
  disabled: boolean;
  policy: Json<PolicyJson>;
  tag: string;
  capture_mode: "none" | "metadata" | "full";
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface VirtualKeysTable {
  id: string;
  instance_id: string;
  prefix: string;
  display_name: string;
  /** Hex SHA-256 of the current secret. */
  secret_hash: string;
  /** Hex SHA-256 of the secret replaced by the last rotation, valid until previous_expires_at. */
  previous_hash: string | null;
  previous_expires_at: Timestamp | null;
  allowed_models: Json<string[]>;
  source_cidrs: Json<string[]>;
  rate_limit: Json<RateLimitJson>;
  budgets: Json<BudgetJson[]>;
  tag: string;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface ProvidersTable {
  id: string;
  type: string;
  base_url: string;
  models: Json<string[]>;
  /** AES-256-GCM envelope (see secrets/seal.ts), bound to the provider id. Null when no credential. */
  sealed_credential: string | null;
  credential_fingerprint: string;
  is_default: boolean;
  weight: number;
  timeouts: Json<{ connectMs?: number; firstByteMs?: number; idleMs?: number; totalMs?: number }>;
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface AttemptJson {
  providerId: string;
  model: string;
  statusCode: number;
  latencyMs: number;
  errorClass: string;
}

export interface UsageRecordsTable {
  /** The request id (x-request-id). */
  id: string;
  time: Timestamp;
  instance_id: string;
  key_id: string;
  provider_id: string;
  api: string;
  requested_model: string;
  served_model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** Null when the model's price is unknown. */
  cost_usd: number | null;
  status_code: number;
  error_class: string;
  latency_ms: number;
  ttfb_ms: number | null;
  stream: boolean;
  client_ip: string;
  user_agent: string;
  fallback: boolean;
  attempts: Json<AttemptJson[]>;
  replica_id: string;
}

export interface CapturesTable {
  request_id: string;
  time: Timestamp;
  instance_id: string;
  request_body: string;
  response_body: string;
  truncated: boolean;
  expires_at: Timestamp;
}

export interface RoutesTable {
  id: string;
  priority: number;
  match: Json<{ maxTokens?: number; tag?: string; model?: string; default?: boolean }>;
  provider_id: string;
  model: string;
  create_time: Timestamp;
}

export interface AliasesTable {
  name: string;
  targets: Json<{ provider: string; model: string; weight: number }[]>;
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  time: Timestamp;
  actor: string;
  actor_role: string;
  action: string;
  resource: string;
  client_ip: string;
  details: Json<Record<string, unknown>>;
}

export interface AdminTokensTable {
  name: string;
  role: "admin" | "operator" | "viewer";
  token_hash: string;
  prefix: string;
  create_time: Timestamp;
}

export interface Database {
  instances: InstancesTable;
  virtual_keys: VirtualKeysTable;
  providers: ProvidersTable;
  usage_records: UsageRecordsTable;
  captures: CapturesTable;
  routes: RoutesTable;
  aliases: AliasesTable;
  audit_events: AuditEventsTable;
  admin_tokens: AdminTokensTable;
}

export type InstanceRow = Selectable<InstancesTable>;
export type VirtualKeyRow = Selectable<VirtualKeysTable>;
export type ProviderRow = Selectable<ProvidersTable>;
export type UsageRecordRow = Selectable<UsageRecordsTable>;
export type NewUsageRecord = Insertable<UsageRecordsTable>;
export type InstanceUpdate = Updateable<InstancesTable>;
