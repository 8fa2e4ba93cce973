// Usage rows and request records → Admin API messages.
import { create } from "@bufbuild/protobuf";
import {
  AttemptSchema,
  CaptureSchema,
  RequestRecordSchema,
  UsageRowSchema,
  type RequestRecord,
  type UsageRow,
} from "../../../sdk/gen/keygate/v1/usage_pb.js";
import type { CaptureRow } from "../store/requests.js";
import { toCaptureColumns, toUsageColumns } from "../store/usage.js";
import type { UsageRecordRow } from "../store/schema.js";
import type { UsageAggregate } from "../store/usage-query.js";
import type { UsageRecord } from "../usage/record.js";
import { ts } from "./convert.js";

const int = (n: number) => BigInt(Math.round(n));

export function usageRowMessage(a: UsageAggregate): UsageRow {
  return create(UsageRowSchema, {
    instanceId: a.instanceId ?? "",
    keyId: a.keyId ?? "",
    providerId: a.providerId ?? "",
    model: a.model ?? "",
    bucketStart: ts(a.bucketStart),
    requests: int(a.requests),
    errors: int(a.errors),
    inputTokens: int(a.inputTokens),
    outputTokens: int(a.outputTokens),
    cacheReadTokens: int(a.cacheReadTokens),
    cacheWriteTokens: int(a.cacheWriteTokens),
    costUsd: a.costUsd,
    latencyP50Ms: a.latencyP50Ms,
    latencyP95Ms: a.latencyP95Ms,
    unpricedRequests: int(a.unpricedRequests),
  });
}

export function requestMessage(r: UsageRecordRow, capture?: CaptureRow): RequestRecord {
  return create(RequestRecordSchema, {
    id: r.id,
    time: ts(r.time),
    instanceId: r.instance_id,
    keyId: r.key_id,
    providerId: r.provider_id,
    requestedModel: r.requested_model,
    servedModel: r.served_model,
    inputTokens: int(r.input_tokens),
    outputTokens: int(r.output_tokens),
    cacheReadTokens: int(r.cache_read_tokens),
    cacheWriteTokens: int(r.cache_write_tokens),
    ...(r.cost_usd !== null ? { costUsd: r.cost_usd } : {}),
    statusCode: r.status_code,
    errorClass: r.error_class,
    latencyMs: r.latency_ms,
    ...(r.ttfb_ms !== null ? { ttfbMs: r.ttfb_ms } : {}),
    stream: r.stream,
    clientIp: r.client_ip,
    userAgent: r.user_agent,
    api: r.api,
    fallback: r.fallback,
    attempts: r.attempts.map((a) =>
      create(AttemptSchema, {
        providerId: a.providerId,
        model: a.model,
        statusCode: a.statusCode,
        latencyMs: a.latencyMs,
        errorClass: a.errorClass,
      }),
    ),
    capture: capture
      ? create(CaptureSchema, {
          requestBody: capture.request_body,
          responseBody: capture.response_body,
          truncated: capture.truncated,
        })
      : undefined,
    replicaId: r.replica_id,
  });
}

/** A live record; captured bodies only when the watcher may see them. */
export function liveRequestMessage(r: UsageRecord, withCapture = false): RequestRecord {
  // Live records have no retention yet; the expiry is not shown.
  const capture = withCapture ? toCaptureColumns(r, r.time) : undefined;
  return requestMessage(toUsageColumns(r), capture);
}
