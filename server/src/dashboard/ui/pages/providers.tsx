import { useState } from "preact/hooks";
import { BreakerState, ProviderSource, type ProbeResult, type Provider } from "../../../../../sdk/index.js";
import { ErrorText, Empty, Loading } from "../components/messages.js";
import { Pager } from "../components/pager.js";
import { fmtMs, fmtTime } from "../format.js";
import { useAction, usePaged } from "../hooks.js";
import { useSession } from "../session-context.js";

const PAGE_SIZE = 100;

const SOURCE: Record<ProviderSource, string> = {
  [ProviderSource.UNSPECIFIED]: "–",
  [ProviderSource.CONFIG]: "config file",
  [ProviderSource.API]: "API",
};

const BREAKER: Record<BreakerState, { text: string; cls: string }> = {
  [BreakerState.UNSPECIFIED]: { text: "–", cls: "" },
  [BreakerState.CLOSED]: { text: "closed", cls: "ok" },
  [BreakerState.OPEN]: { text: "open", cls: "bad" },
  [BreakerState.HALF_OPEN]: { text: "half-open", cls: "warn" },
};

function Probe({ result }: { result: ProbeResult | undefined }) {
  if (!result) return <span class="muted">–</span>;
  return (
    <span data-testid="probe-result" data-ok={String(result.ok)} title={result.message || undefined}>
      <span class={`badge ${result.ok ? "ok" : "bad"}`}>{result.ok ? "ok" : "failed"}</span>{" "}
      {fmtMs(result.latencyMs)}
      {result.statusCode ? ` · HTTP ${result.statusCode}` : ""}
      {result.message ? <span class="muted"> · {result.message}</span> : null}
    </span>
  );
}

function Breaker({ p }: { p: Provider }) {
  const b = p.breaker;
  const s = BREAKER[b?.state ?? BreakerState.UNSPECIFIED];
  return (
    <span data-testid="provider-breaker">
      <span class={`badge ${s.cls}`}>{s.text}</span>
      {b && b.recentFailures > 0 ? <span class="muted"> {b.recentFailures} recent failures</span> : null}
      {b?.retryAt && b.state !== BreakerState.CLOSED ? (
        <span class="muted"> · retry at {fmtTime(b.retryAt).slice(11)}</span>
      ) : null}
    </span>
  );
}

export function ProvidersPage() {
  const { client } = useSession();
  const [results, setResults] = useState<Record<string, ProbeResult>>({});
  const probe = useAction();
  const [probing, setProbing] = useState<string | undefined>(undefined);
  const list = usePaged(async (pageToken, signal) => {
    const res = await client.listProviders({ pageSize: PAGE_SIZE, pageToken }, { signal });
    return { items: res.providers, next: res.nextPageToken };
  }, []);
  const run = async (ids: string[]) => {
    setProbing(ids.length === 1 ? ids[0] : "*");
    const res = await probe.run(() => client.probeProviders({ providerIds: ids }));
    setProbing(undefined);
    if (!res) return;
    setResults((prev) => ({ ...prev, ...Object.fromEntries(res.results.map((r) => [r.providerId, r])) }));
    // A probe can move a breaker.
    list.reload();
  };
  const items = list.data?.items ?? [];
  return (
    <main data-testid="providers-page">
      <div class="section-head">
        <h1>Providers</h1>
        <button
          type="button"
          class="primary"
          onClick={() => run([])}
          disabled={probing !== undefined}
          data-testid="probe-all"
        >
          {probing === "*" ? "Probing…" : "Probe all"}
        </button>
      </div>
      <ErrorText error={list.error ?? probe.error} id="providers-error" />
      {items.length === 0 && !list.loading ? (
        <Empty>No providers.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="providers-table">
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Type</th>
                <th scope="col">Source</th>
                <th scope="col">Credential</th>
                <th scope="col">Models</th>
                <th scope="col">Breaker</th>
                <th scope="col">Probe</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id} data-testid="provider-row" data-provider={p.id}>
                  <th scope="row">
                    {p.id}
                    {p.default ? <span class="badge"> default</span> : null}
                  </th>
                  <td>{p.type}</td>
                  <td>{SOURCE[p.source]}</td>
                  <td>
                    <code data-testid="provider-fingerprint">{p.credentialFingerprint || "–"}</code>
                  </td>
                  <td class="models">{p.models.join(", ") || <span class="muted">any</span>}</td>
                  <td>
                    <Breaker p={p} />
                  </td>
                  <td>
                    <Probe result={results[p.id]} />
                  </td>
                  <td class="actions-cell">
                    <button
                      type="button"
                      onClick={() => run([p.id])}
                      disabled={probing !== undefined}
                      data-testid="provider-probe"
                    >
                      {probing === p.id ? "Probing…" : "Probe"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Loading show={list.loading && items.length === 0} />
      <Pager id="providers" list={list} />
    </main>
  );
}
