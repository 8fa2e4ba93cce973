import { useEffect, useMemo, useState } from "preact/hooks";
import type { UsageRow } from "../../../../../sdk/index.js";
import { ErrorText, Empty, Loading } from "../components/messages.js";
import { Pager } from "../components/pager.js";
import { UsageChart } from "../components/usage-chart.js";
import { fmtDate, fmtInt, fmtMs, fmtUsd, toLocalInput } from "../format.js";
import { useLoad } from "../hooks.js";
import { useSession } from "../session-context.js";
import { customRange, presetRange, PRESETS, type RangePreset, type TimeRange } from "../time-range.js";
import { loadUsage } from "../usage-query.js";
import { METRICS, SPLITS, type ChartData, type Metric, type Split } from "../usage-series.js";

const TABLE_PAGE = 25;
const REFRESH_MS = 30_000;

type SortKey = "cost" | "requests" | "tokens";

function sortValue(r: UsageRow, key: SortKey): number {
  if (key === "cost") return r.costUsd;
  if (key === "requests") return Number(r.requests);
  return Number(r.inputTokens) + Number(r.outputTokens);
}

function InstanceTable({ rows }: { rows: UsageRow[] }) {
  const [sort, setSort] = useState<SortKey>("cost");
  const [find, setFind] = useState("");
  const [page, setPage] = useState(0);
  const sorted = useMemo(() => {
    const f = find.trim().toLowerCase();
    return rows
      .filter((r) => !f || r.instanceId.toLowerCase().includes(f))
      .sort((a, b) => sortValue(b, sort) - sortValue(a, sort) || a.instanceId.localeCompare(b.instanceId));
  }, [rows, sort, find]);
  const pages = Math.max(1, Math.ceil(sorted.length / TABLE_PAGE));
  const current = Math.min(page, pages - 1);
  const shown = sorted.slice(current * TABLE_PAGE, (current + 1) * TABLE_PAGE);
  return (
    <section aria-labelledby="by-instance">
      <div class="section-head">
        <h2 id="by-instance">Cost and tokens per instance</h2>
        <div class="inline-form">
          <label>
            Find
            <input
              type="search"
              value={find}
              placeholder="instance id"
              onInput={(e) => {
                setFind(e.currentTarget.value);
                setPage(0);
              }}
              data-testid="usage-table-find"
            />
          </label>
          <label>
            Sort by
            <select
              value={sort}
              onChange={(e) => setSort(e.currentTarget.value as SortKey)}
              data-testid="usage-table-sort"
            >
              <option value="cost">Cost</option>
              <option value="requests">Requests</option>
              <option value="tokens">Tokens</option>
            </select>
          </label>
        </div>
      </div>
      {sorted.length === 0 ? (
        <Empty>No usage in this range.</Empty>
      ) : (
        <>
          <div class="table-wrap">
            <table data-testid="usage-table">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col" class="num">
                    Requests
                  </th>
                  <th scope="col" class="num">
                    Errors
                  </th>
                  <th scope="col" class="num">
                    Input tokens
                  </th>
                  <th scope="col" class="num">
                    Output tokens
                  </th>
                  <th scope="col" class="num">
                    Cost
                  </th>
                  <th scope="col" class="num">
                    p95 latency
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.instanceId} data-testid="usage-row" data-instance={r.instanceId}>
                    <th scope="row">
                      <a href={`#/instances/${encodeURIComponent(r.instanceId)}`}>
                        {r.instanceId || "(none)"}
                      </a>
                    </th>
                    <td class="num" data-testid="usage-row-requests">
                      {fmtInt(r.requests)}
                    </td>
                    <td class="num">{fmtInt(r.errors)}</td>
                    <td class="num">{fmtInt(r.inputTokens)}</td>
                    <td class="num">{fmtInt(r.outputTokens)}</td>
                    <td
                      class="num"
                      title={r.unpricedRequests > 0n ? `${r.unpricedRequests} unpriced` : undefined}
                    >
                      {fmtUsd(r.costUsd)}
                      {r.unpricedRequests > 0n ? "*" : ""}
                    </td>
                    <td class="num">{r.latencyP95Ms > 0 ? fmtMs(r.latencyP95Ms) : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            id="usage-table"
            list={{
              page: current + 1,
              hasPrev: current > 0,
              hasNext: current < pages - 1,
              prev: () => setPage(current - 1),
              next: () => setPage(current + 1),
            }}
          />
          <p class="muted" data-testid="usage-table-count">
            {fmtInt(sorted.length)} {sorted.length === 1 ? "instance" : "instances"}.
            {sorted.some((r) => r.unpricedRequests > 0n)
              ? " * includes requests to models without a price."
              : ""}
          </p>
        </>
      )}
    </section>
  );
}

function withoutOther(chart: ChartData): ChartData {
  return { ...chart, series: chart.series.filter((s) => !s.other) };
}

function rangeFor(preset: RangePreset, from: string, to: string): TimeRange | string {
  if (preset !== "custom") return presetRange(preset, new Date());
  return customRange(new Date(from), new Date(to));
}

export function UsagePage() {
  const { client } = useSession();
  const [preset, setPreset] = useState<RangePreset>("24h");
  const [metric, setMetric] = useState<Metric>("requests");
  const [split, setSplit] = useState<Split>("instance");
  const [auto, setAuto] = useState(true);
  // "other" can dwarf the top series on a large fleet; hiding it rescales the chart to them.
  const [showOther, setShowOther] = useState(true);
  // The custom inputs are edited freely and only take effect on "Apply".
  const [from, setFrom] = useState(() => toLocalInput(new Date(Date.now() - 86_400_000)));
  const [to, setTo] = useState(() => toLocalInput(new Date()));
  const [applied, setApplied] = useState({ from, to });
  const range = rangeFor(preset, applied.from, applied.to);
  const rangeError = typeof range === "string" ? range : undefined;

  const view = useLoad(
    (signal) => {
      const r = rangeFor(preset, applied.from, applied.to);
      if (typeof r === "string") return Promise.reject(new Error(r));
      return loadUsage(client, r, split, metric, signal);
    },
    [preset, applied.from, applied.to, split, metric],
  );

  useEffect(() => {
    if (!auto || preset === "custom") return;
    const t = setInterval(view.reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [auto, preset, view.reload]);

  const data = view.data;
  const chart = useMemo(
    () => (data && !showOther ? withoutOther(data.chart) : data?.chart),
    [data, showOther],
  );
  return (
    <main data-testid="usage-page" data-state={view.loading ? "loading" : view.error ? "error" : "ready"}>
      <div class="section-head">
        <h1>Usage</h1>
        <div class="inline-form">
          <label>
            <input
              type="checkbox"
              checked={auto}
              onChange={(e) => setAuto(e.currentTarget.checked)}
              data-testid="usage-auto"
            />
            Auto-refresh
          </label>
          <button type="button" onClick={view.reload} disabled={view.loading} data-testid="usage-refresh">
            Refresh
          </button>
        </div>
      </div>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ from, to });
        }}
      >
        <fieldset class="segmented" data-testid="usage-range">
          <legend>Range</legend>
          {[
            ...PRESETS.map((p) => ({ id: p.id as RangePreset, label: p.id })),
            { id: "custom" as const, label: "custom" },
          ].map((p) => (
            <label class={preset === p.id ? "on" : ""}>
              <input
                type="radio"
                name="range"
                value={p.id}
                checked={preset === p.id}
                onChange={() => setPreset(p.id)}
                data-testid={`usage-range-${p.id}`}
              />
              {p.label}
            </label>
          ))}
        </fieldset>
        {preset === "custom" ? (
          <div class="custom-range">
            <label>
              From
              <input
                type="datetime-local"
                value={from}
                onInput={(e) => setFrom(e.currentTarget.value)}
                data-testid="usage-from"
              />
            </label>
            <label>
              To
              <input
                type="datetime-local"
                value={to}
                onInput={(e) => setTo(e.currentTarget.value)}
                data-testid="usage-to"
              />
            </label>
            <button type="submit" data-testid="usage-apply">
              Apply
            </button>
          </div>
        ) : null}
        <label>
          Show
          <select
            value={metric}
            onChange={(e) => setMetric(e.currentTarget.value as Metric)}
            data-testid="usage-metric"
          >
            {METRICS.map((m) => (
              <option value={m.id}>{m.label}</option>
            ))}
          </select>
        </label>
        <label>
          Split by
          <select
            value={split}
            onChange={(e) => setSplit(e.currentTarget.value as Split)}
            data-testid="usage-split"
          >
            {SPLITS.map((s) => (
              <option value={s.id}>{s.label}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={showOther}
            onChange={(e) => setShowOther(e.currentTarget.checked)}
            data-testid="usage-show-other"
          />
          Show “other”
        </label>
      </form>
      <ErrorText error={rangeError ?? view.error} id="usage-error" />
      {data ? (
        <>
          <p class="muted" data-testid="usage-range-label">
            {fmtDate(data.range.start)} – {fmtDate(data.range.end)}, per {data.range.bucket}
          </p>
          <dl class="cards" data-testid="usage-totals">
            <div>
              <dt>Requests</dt>
              <dd data-testid="usage-total-requests">{fmtInt(data.totals.requests)}</dd>
            </div>
            <div>
              <dt>Errors</dt>
              <dd data-testid="usage-total-errors">{fmtInt(data.totals.errors)}</dd>
            </div>
            <div>
              <dt>Tokens</dt>
              <dd data-testid="usage-total-tokens">{fmtInt(data.totals.tokens)}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd data-testid="usage-total-cost">{fmtUsd(data.totals.cost)}</dd>
            </div>
          </dl>
          {data.chart.series.length ? (
            <UsageChart data={chart ?? data.chart} metric={metric} />
          ) : (
            <Empty>No usage in this range.</Empty>
          )}
          <InstanceTable rows={data.instances} />
        </>
      ) : (
        <Loading show={view.loading} />
      )}
    </main>
  );
}
