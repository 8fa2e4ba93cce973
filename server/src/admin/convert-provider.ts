// Providers → Admin API messages. The credential is write-only: only its fingerprint goes out.
import { create } from "@bufbuild/protobuf";
import {
  BreakerStatusSchema,
  ProviderSchema,
  ProviderSource,
  ProviderTimeoutsSchema,
  type Provider,
} from "../../../sdk/gen/keygate/v1/provider_pb.js";
import type { ProviderConfig } from "../config/types.js";
import { fingerprint } from "../secrets/fingerprint.js";
import type { ProviderRow } from "../store/schema.js";
import { ts } from "./convert.js";
import type { BreakerStatusInit } from "./runtime.js";

type Timeouts = { connectMs?: number; firstByteMs?: number; idleMs?: number; totalMs?: number };

function timeoutsMessage(t: Timeouts) {
  return create(ProviderTimeoutsSchema, {
    connectMs: BigInt(t.connectMs ?? 0),
    firstByteMs: BigInt(t.firstByteMs ?? 0),
    idleMs: BigInt(t.idleMs ?? 0),
    totalMs: BigInt(t.totalMs ?? 0),
  });
}

export function providerFromRow(r: ProviderRow, breaker: BreakerStatusInit | undefined): Provider {
  return create(ProviderSchema, {
    id: r.id,
    type: r.type,
    baseUrl: r.base_url,
    models: [...r.models],
    credentialFingerprint: r.credential_fingerprint,
    source: ProviderSource.API,
    createTime: ts(r.create_time),
    updateTime: ts(r.update_time),
    default: r.is_default,
    timeouts: timeoutsMessage(r.timeouts),
    breaker: breaker ? create(BreakerStatusSchema, breaker) : undefined,
    weight: r.weight,
  });
}

export function providerFromConfig(
  id: string,
  p: ProviderConfig,
  breaker: BreakerStatusInit | undefined,
): Provider {
  return create(ProviderSchema, {
    id,
    type: p.type,
    baseUrl: p.baseUrl ?? "",
    models: [...p.models],
    credentialFingerprint: fingerprint(p.apiKey),
    source: ProviderSource.CONFIG,
    default: p.default,
    timeouts: timeoutsMessage(p.timeouts),
    breaker: breaker ? create(BreakerStatusSchema, breaker) : undefined,
    weight: p.weight,
  });
}
