// Providers over real HTTP: config ones read-only, API ones sealed in the database, credentials
// write-only. A sentinel credential must never come back in any response, audit row or error.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderSource } from "../../sdk/gen/keygate/v1/provider_pb.js";
import { unseal } from "../../server/src/secrets/seal.js";
import { BACKENDS, startAdminServer, type AdminServer } from "../helpers/admin-server.js";
import { failure, recordingClient } from "./rpc-util.js";

const SENTINEL = "sk-SENTINEL-4f2a9c1e7b3d5a8f0c6e2b9d";
const SENTINEL_2 = "sk-ant-SENTINEL-b7e1c3a9f5d2e8b4a6c0";
const CONFIG_KEY = "sk-CONFIGSENTINEL-0123456789abcdefwxyz";
const TIMEOUTS = { connectMs: 5000, firstByteMs: 60000, idleMs: 60000, totalMs: 600000 };

describe.each(BACKENDS)("providers on %s", (backend) => {
  let srv: AdminServer;
  beforeAll(async () => {
    srv = await startAdminServer({
      backend,
      config: {
        providers: {
          openai: {
            type: "openai",
            apiKey: CONFIG_KEY,
            models: ["gpt-4o"],
            default: true,
            weight: 1,
            timeouts: TIMEOUTS,
            headers: {},
          },
        },
      },
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("never returns a credential, sealing API credentials bound to the provider id", async () => {
    const { client: c, settled } = recordingClient(srv.baseUrl, srv.adminToken);
    const errors: string[] = [];
    const created = await c.createProvider({
      providerId: "openrouter",
      provider: {
        type: "openai-compatible",
        baseUrl: "https://openrouter.ai/api/v1/",
        models: ["meta/llama-3"],
        credential: SENTINEL,
        weight: 3,
        timeouts: { connectMs: 1000n },
      },
    });
    const p = created.provider;
    expect(p?.source).toBe(ProviderSource.API);
    expect(p?.credential).toBe("");
    expect(p?.credentialFingerprint).toBe(`sk-…${SENTINEL.slice(-4)}`);
    expect(p?.baseUrl).toBe("https://openrouter.ai/api/v1");
    expect(p?.weight).toBe(3);
    expect(p?.timeouts?.connectMs).toBe(1000n);

    // Sealed at rest, bound to the id, readable by the catalog.
    const row = await srv.db
      .selectFrom("providers")
      .selectAll()
      .where("id", "=", "openrouter")
      .executeTakeFirstOrThrow();
    expect(row.sealed_credential).not.toContain(SENTINEL);
    expect(unseal(srv.keyring, "openrouter", row.sealed_credential ?? "")).toBe(SENTINEL);
    expect(() => unseal(srv.keyring, "openai", row.sealed_credential ?? "")).toThrow();
    const resolved = srv.catalog.get("openrouter");
    expect(resolved?.credential).toBe(SENTINEL);
    expect(resolved?.source).toBe("api");
    expect(resolved?.timeouts.connectMs).toBe(1000);
    expect(resolved?.timeouts.totalMs).toBe(600_000);

    const got = await c.getProvider({ id: "openrouter" });
    expect(got.provider?.credentialFingerprint).toBe(p?.credentialFingerprint);
    const list = await c.listProviders({});
    expect(list.providers.map((x) => [x.id, x.source])).toEqual([
      ["openai", ProviderSource.CONFIG],
      ["openrouter", ProviderSource.API],
    ]);
    expect(list.providers[0]?.credentialFingerprint).toBe(`sk-…${CONFIG_KEY.slice(-4)}`);

    const upd = await c.updateProvider({
      provider: { id: "openrouter", credential: SENTINEL_2, models: ["ignored"] },
      updateMask: { paths: ["credential"] },
    });
    expect(upd.provider?.models).toEqual(["meta/llama-3"]);
    expect(upd.provider?.credentialFingerprint).toBe(`sk-…${SENTINEL_2.slice(-4)}`);
    expect(srv.catalog.get("openrouter")?.credential).toBe(SENTINEL_2);

    // Errors about a credential do not quote it.
    errors.push(
      (
        await failure(
          c.updateProvider({
            provider: { id: "openrouter", credential: `${SENTINEL} x` },
            updateMask: { paths: ["credential"] },
          }),
        )
      ).message,
      (
        await failure(
          c.createProvider({ providerId: "bad", provider: { type: "nope", credential: SENTINEL } }),
        )
      ).message,
      (
        await failure(
          c.createProvider({ providerId: "openrouter", provider: { type: "openai", credential: SENTINEL } }),
        )
      ).message,
    );

    // Every read that can mention a provider.
    await c.listAuditEvents({ pageSize: 100 });
    await c.probeProviders({});
    await c.listRoutes({});
    await c.setAlias({
      alias: { name: "router-alias", targets: [{ providerId: "openrouter", model: "m" }] },
    });
    await c.listAliases({});
    await c.getStatus({});
    await c.deleteAlias({ name: "router-alias" });
    const bodies = await settled();
    expect(bodies).toHaveLength(14);
    for (const text of [...bodies, ...errors]) {
      expect(text).not.toContain(SENTINEL);
      expect(text).not.toContain(SENTINEL_2);
      expect(text).not.toContain(CONFIG_KEY);
      expect(text).not.toContain("SENTINEL");
    }
    const audits = await srv.db.selectFrom("audit_events").selectAll().execute();
    expect(audits.map((a) => a.action)).toEqual(
      expect.arrayContaining(["provider.create", "provider.update"]),
    );
    expect(JSON.stringify(audits)).not.toContain("SENTINEL");
  });

  it("keeps config providers read-only and ids unique across sources", async () => {
    const c = srv.client();
    const cfg = await c.getProvider({ id: "openai" });
    expect(cfg.provider?.source).toBe(ProviderSource.CONFIG);
    expect(cfg.provider?.default).toBe(true);
    expect(
      (
        await failure(
          c.createProvider({ providerId: "openai", provider: { type: "openai", credential: "sk-x" } }),
        )
      ).code,
    ).toBe(Code.AlreadyExists);
    const upd = await failure(
      c.updateProvider({ provider: { id: "openai", models: ["x"] }, updateMask: { paths: ["models"] } }),
    );
    expect(upd.code).toBe(Code.FailedPrecondition);
    expect((await failure(c.deleteProvider({ id: "openai" }))).code).toBe(Code.FailedPrecondition);
  });

  it("validates provider input, naming the field", async () => {
    const c = srv.client();
    const type = await failure(c.createProvider({ providerId: "p1", provider: { type: "azure" } }));
    expect(type).toEqual({
      code: Code.InvalidArgument,
      message: "provider.type: must be one of openai, openai-compatible, anthropic, google, ollama, echo",
    });
    const url = await failure(
      c.createProvider({ providerId: "p1", provider: { type: "ollama", baseUrl: "localhost:11434" } }),
    );
    expect(url.message).toBe("provider.base_url: not an absolute http(s) URL");
    const ftp = await failure(
      c.createProvider({ providerId: "p1", provider: { type: "ollama", baseUrl: "ftp://x/" } }),
    );
    expect(ftp.message).toBe("provider.base_url: not an absolute http(s) URL");
    const cred = await failure(c.createProvider({ providerId: "p1", provider: { type: "anthropic" } }));
    expect(cred.message).toBe("provider.credential: required for type anthropic");
    const compat = await failure(
      c.createProvider({ providerId: "p1", provider: { type: "openai-compatible" } }),
    );
    expect(compat.message).toBe("provider.base_url: required for type openai-compatible");
    expect(
      (await failure(c.createProvider({ providerId: "P1", provider: { type: "echo" } }))).message,
    ).toMatch(/^provider_id: /);
    expect((await failure(c.createProvider({ providerId: "p1" }))).message).toBe("provider: is required");
    const mask = await failure(
      c.updateProvider({ provider: { id: "openrouter" }, updateMask: { paths: ["type"] } }),
    );
    expect(mask.code).toBe(Code.InvalidArgument);
    expect(mask.message).toMatch(/"type"/);
    expect((await failure(c.getProvider({ id: "nope" }))).code).toBe(Code.NotFound);
    expect((await failure(c.deleteProvider({ id: "nope" }))).code).toBe(Code.NotFound);
  });

  it("probes through the runtime, pages, and deletes API providers", async () => {
    const c = srv.client();
    await c.createProvider({
      providerId: "local",
      provider: { type: "ollama", baseUrl: "http://127.0.0.1:11434", default: true },
    });
    expect(srv.catalog.get("local")?.isDefault).toBe(true);
    const probe = await c.probeProviders({ providerIds: ["local"] });
    expect(probe.results.map((r) => r.providerId)).toEqual(["local"]);
    const all = await c.probeProviders({});
    expect(all.results.map((r) => r.providerId).sort()).toEqual(
      srv.catalog
        .list()
        .map((p) => p.id)
        .sort(),
    );
    expect((await failure(c.probeProviders({ providerIds: ["ghost"] }))).code).toBe(Code.NotFound);

    const seen: string[] = [];
    let token = "";
    do {
      const page = await c.listProviders({ pageSize: 1, pageToken: token });
      expect(page.providers.length).toBe(1);
      seen.push(page.providers[0]?.id ?? "");
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(["openai", "local", "openrouter"]);

    // A provider used by an alias cannot be deleted until the alias is gone.
    await c.setAlias({ alias: { name: "llama", targets: [{ providerId: "local", model: "llama3" }] } });
    expect((await failure(c.deleteProvider({ id: "local" }))).code).toBe(Code.FailedPrecondition);
    await c.deleteAlias({ name: "llama" });
    await c.deleteProvider({ id: "local" });
    expect(srv.catalog.get("local")).toBeUndefined();
    expect((await failure(c.getProvider({ id: "local" }))).code).toBe(Code.NotFound);
  });
});
