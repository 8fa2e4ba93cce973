// Adapters read usage per API, not per provider: these bind the shared extractors.
import { type TapOptions, createUsageTap, usageFromBody } from "../usage/taps/index.js";
import type { ProviderAdapter } from "./types.js";

export const usageMethods: Pick<ProviderAdapter, "usageFromBody" | "createStreamTap"> = {
  usageFromBody,
  // The optional second argument is ready for ProviderAdapter.createStreamTap to take TapOptions.
  createStreamTap: (api, opts?: TapOptions) => createUsageTap(api, opts),
};
