// One usage record for tests that need records without a gateway: every field set, any overridden.
import type { UsageRecord } from "../../server/src/usage/record.js";

export function usageRecord(over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    id: "req",
    time: new Date(),
    instanceId: "agent",
    keyId: "key_a",
    providerId: "p",
    api: "openai.chat",
    requestedModel: "m",
    servedModel: "m",
    inputTokens: 1,
    outputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: null,
    statusCode: 200,
    errorClass: "",
    latencyMs: 1,
    ttfbMs: null,
    stream: false,
    clientIp: "",
    userAgent: "",
    fallback: false,
    attempts: [],
    replicaId: "r",
    ...over,
  };
}
