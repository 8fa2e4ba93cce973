// Small pieces every adapter shares.
import type { ProviderType } from "../config/types.js";
import type { Api } from "./types.js";

/** `Authorization: Bearer` for a credential; none when the credential is empty. */
export function bearer(credential: string): [string, string][] {
  return credential === "" ? [] : [["authorization", `Bearer ${credential}`]];
}

/** Thrown when a handler asks an adapter for an API outside its wire family (translate first). */
export class UnsupportedApiError extends Error {
  constructor(type: ProviderType, api: Api) {
    super(`provider type ${type} does not serve ${api}`);
    this.name = "UnsupportedApiError";
  }
}
