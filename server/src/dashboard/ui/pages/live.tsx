import { useEffect, useReducer, useState } from "preact/hooks";
import type { RequestRecord } from "../../../../../sdk/index.js";
import { Empty } from "../components/messages.js";
import { errorMessage, isAbort, isUnauthenticated } from "../errors.js";
import { fmtInt, fmtMs, fmtTime, fmtUsd } from "../format.js";
import { FEED_CAP, feedReducer, initialFeed, type FeedItem } from "../live-feed.js";
import { useSession } from "../session-context.js";

const RETRY_MS = 3000;
const COLUMNS = 9;

interface Filters {
  instance: string;
  model: string;
  status: string;
}

// The gateway sends response headers only with the first record, so an open feed on a quiet fleet
// looks the same as one still connecting: both show as "watching".
type Conn = { state: "watching" } | { state: "retrying"; error: string };

function statusClass(r: RequestRecord): string {
  if (r.statusCode >= 500) return "bad";
  if (r.statusCode >= 400) return "warn";
  return "ok";
}

function Row({ item }: { item: FeedItem }) {
  if (item.kind === "missed") {
    return (
      <tr class="missed" data-testid="live-missed" data-count={item.count}>
        <td colSpan={COLUMNS}>
          {fmtInt(item.count)} missed{" "}
          {item.reason === "slow" ? "(the feed fell behind the gateway)" : "while paused (beyond the buffer)"}
        </td>
      </tr>
    );
  }
  const r = item.record;
  return (
    <tr data-testid="live-row" data-instance={r.instanceId} data-status={r.statusCode}>
      <td class="muted">{fmtTime(r.time).slice(11)}</td>
      <td>
        <span class={`badge ${statusClass(r)}`}>{r.statusCode || "–"}</span>
      </td>
      <td>{r.instanceId || "–"}</td>
      <td>
        {r.requestedModel}
        {r.servedModel && r.servedModel !== r.requestedModel ? ` → ${r.servedModel}` : ""}
      </td>
      <td class="muted">{r.providerId}</td>
      <td class="num">{fmtInt(r.inputTokens + r.outputTokens)}</td>
      <td class="num">{r.costUsd === undefined ? "–" : fmtUsd(r.costUsd)}</td>
      <td class="num">{fmtMs(r.latencyMs)}</td>
      <td>
        {r.errorClass ? <span class="badge bad">{r.errorClass}</span> : null}
        {r.fallback ? <span class="badge warn">fallback</span> : null}
        {r.stream ? <span class="badge">stream</span> : null}
      </td>
    </tr>
  );
}

export function LivePage() {
  const { client, signOut } = useSession();
  const [feed, dispatch] = useReducer(feedReducer, undefined, initialFeed);
  const [draft, setDraft] = useState<Filters>({ instance: "", model: "", status: "" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [conn, setConn] = useState<Conn>({ state: "watching" });

  // One stream per filter set; the gateway filters, so a quiet instance costs nothing to watch.
  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watch = async () => {
      setConn({ state: "watching" });
      try {
        const stream = client.watchRequests(
          {
            filter: {
              instanceIds: filters.instance ? [filters.instance] : [],
              models: filters.model ? [filters.model] : [],
            },
            statuses: filters.status ? [filters.status] : [],
          },
          { signal: ctrl.signal },
        );
        for await (const res of stream) {
          dispatch({ type: "event", event: res.event, at: Date.now() });
        }
        if (!ctrl.signal.aborted) throw new Error("The gateway closed the feed.");
      } catch (e) {
        if (ctrl.signal.aborted || isAbort(e)) return;
        if (isUnauthenticated(e)) return signOut(errorMessage(e));
        setConn({ state: "retrying", error: errorMessage(e) });
        timer = setTimeout(watch, RETRY_MS);
      }
    };
    void watch();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [client, filters, signOut]);

  return (
    <main data-testid="live-page" data-conn={conn.state}>
      <div class="section-head">
        <h1>Live requests</h1>
        <div class="inline-form">
          <span class={`conn ${conn.state}`} role="status" data-testid="live-conn">
            {conn.state === "watching" ? "Watching" : `Reconnecting: ${conn.error}`}
          </span>
          {feed.paused ? (
            <button
              type="button"
              class="primary"
              onClick={() => dispatch({ type: "resume", at: Date.now() })}
              data-testid="live-resume"
            >
              Resume{feed.pending.length ? ` (${feed.pending.length} new)` : ""}
            </button>
          ) : (
            <button type="button" onClick={() => dispatch({ type: "pause" })} data-testid="live-pause">
              Pause
            </button>
          )}
          <button type="button" onClick={() => dispatch({ type: "clear" })} data-testid="live-clear">
            Clear
          </button>
        </div>
      </div>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft, instance: draft.instance.trim(), model: draft.model.trim() });
        }}
      >
        <label>
          Instance
          <input
            value={draft.instance}
            onInput={(e) => setDraft({ ...draft, instance: e.currentTarget.value })}
            data-testid="live-filter-instance"
          />
        </label>
        <label>
          Model
          <input
            value={draft.model}
            onInput={(e) => setDraft({ ...draft, model: e.currentTarget.value })}
            data-testid="live-filter-model"
          />
        </label>
        <label>
          Status
          <select
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}
            data-testid="live-filter-status"
          >
            <option value="">All</option>
            <option value="2xx">2xx</option>
            <option value="4xx">4xx</option>
            <option value="5xx">5xx</option>
          </select>
        </label>
        <button type="submit" data-testid="live-filter-apply">
          Apply
        </button>
      </form>
      <p class="muted">
        Newest first; the last {FEED_CAP} are kept.
        {feed.missedTotal > 0 ? (
          <strong data-testid="live-missed-total"> {fmtInt(feed.missedTotal)} missed in total.</strong>
        ) : null}
      </p>
      {feed.items.length === 0 ? (
        <Empty>Waiting for requests…</Empty>
      ) : (
        <div class="table-wrap">
          <table class="feed" data-testid="live-feed">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Instance</th>
                <th scope="col">Model</th>
                <th scope="col">Provider</th>
                <th scope="col" class="num">
                  Tokens
                </th>
                <th scope="col" class="num">
                  Cost
                </th>
                <th scope="col" class="num">
                  Latency
                </th>
                <th scope="col">
                  <span class="sr-only">Notes</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {feed.items.map((item) => (
                <Row key={item.key} item={item} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
