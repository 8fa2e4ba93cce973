// Providers: CreateProvider, GetProvider, ListProviders, UpdateProvider, DeleteProvider,
// ProbeProviders. Config providers are read-only; API providers are stored sealed.
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import type { Provider, ProviderTimeouts } from "../../../sdk/gen/keygate/v1/provider_pb.js";
import type { ProviderType } from "../config/types.js";
import { fingerprint } from "../secrets/fingerprint.js";
import { seal } from "../secrets/seal.js";
import { isUniqueViolation } from "../store/errors.js";
import {
  clearOtherDefaults,
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  updateProvider,
  type ProviderFields,
  type ProviderTimeoutsJson,
} from "../store/providers.js";
import { listAliases, listRoutes } from "../store/routes.js";
import { providerFromConfig, providerFromRow } from "./convert-provider.js";
import { mutate, type Svc } from "./deps.js";
import { alreadyExists, failedPrecondition, invalid, notFound } from "./errors.js";
import { maskPaths } from "./field-mask.js";
import { decodeOffsetToken, encodeOffsetToken, pageSize } from "./page.js";
import {
  checkBaseUrl,
  checkId,
  checkNonNegativeInt,
  checkProviderType,
  checkRequired,
  checkStringList,
} from "./validate.js";

const UPDATE_PATHS = ["base_url", "models", "credential", "default", "timeouts", "weight"] as const;
/** Types that cannot work without a credential. */
const NEEDS_CREDENTIAL: ReadonlySet<ProviderType> = new Set(["openai", "anthropic", "google"]);
const MAX_CREDENTIAL = 8192;

function checkCredential(type: ProviderType, credential: string): string {
  const c = credential.trim();
  // Never quote the value in these messages.
  if (!c && NEEDS_CREDENTIAL.has(type)) throw invalid("provider.credential", `required for type ${type}`);
  if (c.length > MAX_CREDENTIAL)
    throw invalid("provider.credential", `must be at most ${MAX_CREDENTIAL} characters`);
  if (/[\s\p{Cc}]/u.test(c))
    throw invalid("provider.credential", "must not contain whitespace or control characters");
  return c;
}

function checkBaseUrlFor(type: ProviderType, raw: string): string {
  const url = checkBaseUrl("provider.base_url", raw);
  if (!url && type === "openai-compatible")
    throw invalid("provider.base_url", "required for type openai-compatible");
  return url;
}

function toTimeouts(t: ProviderTimeouts | undefined): ProviderTimeoutsJson {
  if (!t) return {};
  const out: ProviderTimeoutsJson = {};
  const max = 86_400_000;
  const c = checkNonNegativeInt("provider.timeouts.connect_ms", t.connectMs, max);
  const f = checkNonNegativeInt("provider.timeouts.first_byte_ms", t.firstByteMs, max);
  const i = checkNonNegativeInt("provider.timeouts.idle_ms", t.idleMs, max);
  const tot = checkNonNegativeInt("provider.timeouts.total_ms", t.totalMs, max);
  if (c) out.connectMs = c;
  if (f) out.firstByteMs = f;
  if (i) out.idleMs = i;
  if (tot) out.totalMs = tot;
  return out;
}

function sealed(
  svc: Svc,
  id: string,
  credential: string,
): Pick<ProviderFields, "sealedCredential" | "credentialFingerprint"> {
  return credential
    ? { sealedCredential: seal(svc.keyring, id, credential), credentialFingerprint: fingerprint(credential) }
    : { sealedCredential: null, credentialFingerprint: "" };
}

/** Non-secret description of provider fields for the audit log. */
function auditFields(f: Partial<ProviderFields>): Record<string, unknown> {
  const { sealedCredential, credentialFingerprint, ...rest } = f;
  return {
    ...rest,
    ...(sealedCredential !== undefined
      ? { credential_set: sealedCredential !== null, credential_fingerprint: credentialFingerprint }
      : {}),
  };
}

export function providerService(svc: Svc): Partial<ServiceImpl<typeof AdminService>> {
  const isConfig = (id: string) => Object.hasOwn(svc.config.providers, id);
  const breaker = (id: string) => svc.runtime.breaker(id);

  async function allProviders(): Promise<Provider[]> {
    const fromConfig = Object.entries(svc.config.providers).map(([id, p]) =>
      providerFromConfig(id, p, breaker(id)),
    );
    const rows = (await listProviders(svc.db)).filter((r) => !isConfig(r.id));
    return [...fromConfig, ...rows.map((r) => providerFromRow(r, breaker(r.id)))];
  }

  return {
    async createProvider(req, ctx) {
      const id = checkId("provider_id", checkRequired("provider_id", req.providerId));
      const p = req.provider;
      if (!p) throw invalid("provider", "is required");
      if (p.id && p.id !== id) throw invalid("provider.id", "must be empty or equal provider_id");
      if (isConfig(id)) throw alreadyExists("provider", id);
      const type = checkProviderType("provider.type", p.type);
      const fields: ProviderFields = {
        type,
        baseUrl: checkBaseUrlFor(type, p.baseUrl),
        models: checkStringList("provider.models", p.models),
        ...sealed(svc, id, checkCredential(type, p.credential)),
        isDefault: p.default,
        weight: checkNonNegativeInt("provider.weight", p.weight, 1_000_000) || 1,
        timeouts: toTimeouts(p.timeouts),
      };
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        let created;
        try {
          created = await createProvider(trx, id, fields, now);
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyExists("provider", id);
          throw err;
        }
        if (fields.isDefault) await clearOtherDefaults(trx, id, now);
        await audit("provider.create", `providers/${id}`, auditFields(fields));
        return created;
      });
      await svc.catalog.reload();
      return { provider: providerFromRow(row, breaker(id)) };
    },

    async getProvider(req) {
      checkRequired("id", req.id);
      const cfg = svc.config.providers[req.id];
      if (cfg && isConfig(req.id)) return { provider: providerFromConfig(req.id, cfg, breaker(req.id)) };
      const row = await getProvider(svc.db, req.id);
      if (!row) throw notFound("provider", req.id);
      return { provider: providerFromRow(row, breaker(req.id)) };
    },

    async listProviders(req) {
      const limit = pageSize(req.pageSize);
      const offset = decodeOffsetToken("providers", req.pageToken);
      const all = await allProviders();
      const providers = all.slice(offset, offset + limit);
      const next = offset + limit < all.length ? offset + limit : undefined;
      return { providers, nextPageToken: encodeOffsetToken("providers", next) };
    },

    async updateProvider(req, ctx) {
      const p = req.provider;
      if (!p) throw invalid("provider", "is required");
      const id = checkRequired("provider.id", p.id);
      if (isConfig(id))
        throw failedPrecondition(
          `provider ${JSON.stringify(id)} comes from the config file and is read-only`,
        );
      const paths = maskPaths(req.updateMask, UPDATE_PATHS);
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        const current = await getProvider(trx, id);
        if (!current) throw notFound("provider", id);
        const type = checkProviderType("provider.type", current.type);
        if (p.type && p.type !== current.type) throw invalid("provider.type", "cannot be changed");
        const patch: Partial<ProviderFields> = {};
        if (paths.has("base_url")) patch.baseUrl = checkBaseUrlFor(type, p.baseUrl);
        if (paths.has("models")) patch.models = checkStringList("provider.models", p.models);
        if (paths.has("credential"))
          Object.assign(patch, sealed(svc, id, checkCredential(type, p.credential)));
        if (paths.has("default")) patch.isDefault = p.default;
        if (paths.has("timeouts")) patch.timeouts = toTimeouts(p.timeouts);
        if (paths.has("weight"))
          patch.weight = checkNonNegativeInt("provider.weight", p.weight, 1_000_000) || 1;
        const updated = await updateProvider(trx, id, patch, now);
        if (!updated) throw notFound("provider", id);
        if (patch.isDefault) await clearOtherDefaults(trx, id, now);
        await audit("provider.update", `providers/${id}`, { paths: [...paths], ...auditFields(patch) });
        return updated;
      });
      await svc.catalog.reload();
      return { provider: providerFromRow(row, breaker(id)) };
    },

    async deleteProvider(req, ctx) {
      const id = checkRequired("id", req.id);
      if (isConfig(id))
        throw failedPrecondition(
          `provider ${JSON.stringify(id)} comes from the config file and is read-only`,
        );
      await mutate(svc, ctx, async (trx, audit) => {
        const current = await getProvider(trx, id);
        if (!current) throw notFound("provider", id);
        // Refuse to leave API routes or aliases pointing at nothing.
        const route = (await listRoutes(trx)).find((r) => r.provider_id === id);
        if (route)
          throw failedPrecondition(
            `provider ${JSON.stringify(id)} is used by route ${JSON.stringify(route.id)}`,
          );
        const alias = (await listAliases(trx)).find((a) => a.targets.some((t) => t.provider === id));
        if (alias)
          throw failedPrecondition(
            `provider ${JSON.stringify(id)} is used by alias ${JSON.stringify(alias.name)}`,
          );
        await deleteProvider(trx, id);
        await audit("provider.delete", `providers/${id}`, { type: current.type });
      });
      await svc.catalog.reload();
      return {};
    },

    async probeProviders(req) {
      const known = new Set(svc.catalog.list().map((p) => p.id));
      for (const id of req.providerIds) if (!known.has(id)) throw notFound("provider", id);
      const ids = req.providerIds.length > 0 ? [...new Set(req.providerIds)] : [...known];
      return { results: ids.length > 0 ? await svc.runtime.probe(ids) : [] };
    },
  };
}
