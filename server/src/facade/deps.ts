// Everything the façade needs from the rest of the process, as one plain object.
import type { KeygateConfig, TimeoutsConfig } from "../config/types.js";
import type { Logger } from "../log/logger.js";
import type { KeyCache } from "../auth/key-cache.js";
import type { Api, ExtractedUsage, ProviderAdapter } from "../providers/types.js";
import type { ProviderType } from "../config/types.js";
import type { RoutableProvider, Router } from "../routing/router.js";
import type { UsageRecorder } from "../usage/recorder.js";
import type { TokenUsage } from "../usage/record.js";
import type { Upstreams } from "./upstream.js";
import type { Limiter } from "../limits/index.js";
import type { Breakers } from "../routing/breaker.js";
import type { AfterResponse } from "./after-response.js";

/** A provider as the hot path sees it: routable, with its unsealed credential in memory. */
export interface UpstreamProvider extends RoutableProvider {
  baseUrl?: string;
  credential?: string;
  timeouts: TimeoutsConfig;
  headers: Record<string, string>;
}

export interface InProcessResponse {
  status: number;
  headers: [string, string][];
  chunks: AsyncIterable<Uint8Array> | Uint8Array;
  usage: ExtractedUsage;
}

export interface FacadeDeps {
  config: KeygateConfig;
  logger: Logger;
  keys: KeyCache;
  /** The current router; replaced when providers or routes change. */
  router: () => Router<UpstreamProvider>;
  adapterFor: (type: ProviderType) => ProviderAdapter;
  /** The in-process demo provider. */
  echo: (api: Api, body: unknown, stream: boolean) => InProcessResponse;
  costFor: (model: string, type: ProviderType, usage: TokenUsage) => number | null;
  recorder: UsageRecorder;
  upstreams: Upstreams;
  replicaId: string;
  /** Notes that a key was used (coalesced into periodic last_used_at writes). */
  touchKey: (keyId: string) => void;
  limiter: Limiter;
  breakers: Breakers;
  /** Where a request's bookkeeping is queued once its response is written. */
  afterResponse: AfterResponse;
}
