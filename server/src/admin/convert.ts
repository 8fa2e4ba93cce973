// Database rows → Admin API messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AdminRole,
  AdminTokenSchema,
  AuditEventSchema,
  type AdminToken,
  type AuditEvent,
} from "../../../sdk/gen/keygate/v1/audit_pb.js";
import { InstanceSchema, type Instance } from "../../../sdk/gen/keygate/v1/instance_pb.js";
import { KeyState, VirtualKeySchema, type VirtualKey } from "../../../sdk/gen/keygate/v1/key_pb.js";
import {
  BudgetSchema,
  BudgetWindow,
  CaptureMode,
  PolicySchema,
  RateLimitSchema,
  type Budget,
  type Policy,
  type RateLimit,
} from "../../../sdk/gen/keygate/v1/policy_pb.js";
import type { AdminRoleName } from "../config/types.js";
import type { AdminTokenRow } from "../store/admin-tokens.js";
import type { AuditRow } from "../store/audit.js";
import type { BudgetJson, InstanceRow, PolicyJson, RateLimitJson, VirtualKeyRow } from "../store/schema.js";

export const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

export function rateLimitMessage(rl: RateLimitJson): RateLimit {
  const out = create(RateLimitSchema);
  if (rl.requestsPerMinute !== undefined) out.requestsPerMinute = BigInt(rl.requestsPerMinute);
  if (rl.tokensPerMinute !== undefined) out.tokensPerMinute = BigInt(rl.tokensPerMinute);
  if (rl.tokensPerHour !== undefined) out.tokensPerHour = BigInt(rl.tokensPerHour);
  if (rl.tokensPerDay !== undefined) out.tokensPerDay = BigInt(rl.tokensPerDay);
  if (rl.maxConcurrent !== undefined) out.maxConcurrent = BigInt(rl.maxConcurrent);
  return out;
}

const WINDOW_ENUM: Record<BudgetJson["window"], BudgetWindow> = {
  daily: BudgetWindow.DAILY,
  weekly: BudgetWindow.WEEKLY,
  monthly: BudgetWindow.MONTHLY,
  total: BudgetWindow.TOTAL,
};

export function budgetMessages(budgets: readonly BudgetJson[]): Budget[] {
  return budgets.map((b) => create(BudgetSchema, { window: WINDOW_ENUM[b.window], limitUsd: b.limitUsd }));
}

export function policyMessage(p: PolicyJson): Policy {
  return create(PolicySchema, {
    allowedModels: [...p.allowedModels],
    rateLimit: rateLimitMessage(p.rateLimit),
    budgets: budgetMessages(p.budgets),
  });
}

const CAPTURE_ENUM: Record<InstanceRow["capture_mode"], CaptureMode> = {
  none: CaptureMode.NONE,
  metadata: CaptureMode.METADATA,
  full: CaptureMode.FULL,
};

export function instanceMessage(r: InstanceRow): Instance {
  return create(InstanceSchema, {
    id: r.id,
    displayName: r.display_name,
    labels: { ...r.labels },
    disabled: r.disabled,
    createTime: ts(r.create_time),
    updateTime: ts(r.update_time),
    policy: policyMessage(r.policy),
    tag: r.tag,
    captureMode: CAPTURE_ENUM[r.capture_mode] ?? CaptureMode.NONE,
  });
}

export function keyState(r: VirtualKeyRow, now: Date): KeyState {
  if (r.revoked_at) return KeyState.REVOKED;
  if (r.expires_at && r.expires_at.getTime() <= now.getTime()) return KeyState.EXPIRED;
  return KeyState.ACTIVE;
}

export function keyMessage(r: VirtualKeyRow, now: Date): VirtualKey {
  const graceLive = r.previous_hash !== null && r.previous_expires_at && r.previous_expires_at > now;
  return create(VirtualKeySchema, {
    id: r.id,
    instanceId: r.instance_id,
    prefix: r.prefix,
    displayName: r.display_name,
    createTime: ts(r.create_time),
    expiresAt: ts(r.expires_at),
    revokedAt: ts(r.revoked_at),
    lastUsedAt: ts(r.last_used_at),
    allowedModels: [...r.allowed_models],
    sourceCidrs: [...r.source_cidrs],
    rateLimit: rateLimitMessage(r.rate_limit),
    budgets: budgetMessages(r.budgets),
    tag: r.tag,
    state: keyState(r, now),
    updateTime: ts(r.update_time),
    previousSecretExpiresAt: graceLive ? ts(r.previous_expires_at) : undefined,
  });
}

export const ROLE_ENUM: Record<AdminRoleName, AdminRole> = {
  admin: AdminRole.ADMIN,
  operator: AdminRole.OPERATOR,
  viewer: AdminRole.VIEWER,
};

export function roleName(role: AdminRole): AdminRoleName | undefined {
  switch (role) {
    case AdminRole.ADMIN:
      return "admin";
    case AdminRole.OPERATOR:
      return "operator";
    case AdminRole.VIEWER:
      return "viewer";
    default:
      return undefined;
  }
}

export function adminTokenMessage(
  t: Pick<AdminTokenRow, "name" | "role" | "prefix"> & { create_time?: Date },
  source: "config" | "bootstrap" | "api",
): AdminToken {
  return create(AdminTokenSchema, {
    name: t.name,
    role: ROLE_ENUM[t.role],
    prefix: t.prefix,
    createTime: ts(t.create_time),
    source,
  });
}

export function auditMessage(r: AuditRow): AuditEvent {
  const role = r.actor_role as AdminRoleName;
  return create(AuditEventSchema, {
    id: r.id,
    time: ts(r.time),
    actor: r.actor,
    actorRole: ROLE_ENUM[role] ?? AdminRole.UNSPECIFIED,
    action: r.action,
    resource: r.resource,
    clientIp: r.client_ip,
    detailsJson: JSON.stringify(r.details),
  });
}
