import { useState } from "preact/hooks";
import { AdminRole } from "../../../../../sdk/index.js";
import { ErrorText, Empty, Loading } from "../components/messages.js";
import { Pager } from "../components/pager.js";
import { fmtTime } from "../format.js";
import { usePaged } from "../hooks.js";
import { useSession } from "../session-context.js";

const PAGE_SIZE = 50;

const ROLE: Record<AdminRole, string> = {
  [AdminRole.UNSPECIFIED]: "",
  [AdminRole.ADMIN]: "admin",
  [AdminRole.OPERATOR]: "operator",
  [AdminRole.VIEWER]: "viewer",
};

/** Pretty-prints the details when they parse; shows them as sent otherwise. */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function AuditPage() {
  const { client } = useSession();
  const [draft, setDraft] = useState({ actor: "", action: "" });
  const [filters, setFilters] = useState(draft);
  const list = usePaged(
    async (pageToken, signal) => {
      const res = await client.listAuditEvents(
        { pageSize: PAGE_SIZE, pageToken, actor: filters.actor, action: filters.action },
        { signal },
      );
      return { items: res.events, next: res.nextPageToken };
    },
    [filters.actor, filters.action],
  );
  const items = list.data?.items ?? [];
  return (
    <main data-testid="audit-page" data-state={list.loading ? "loading" : "ready"}>
      <h1>Audit log</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ actor: draft.actor.trim(), action: draft.action.trim() });
        }}
      >
        <label>
          Actor
          <input
            value={draft.actor}
            placeholder="token name"
            onInput={(e) => setDraft({ ...draft, actor: e.currentTarget.value })}
            data-testid="audit-filter-actor"
          />
        </label>
        <label>
          Action
          <input
            value={draft.action}
            placeholder="key. or key.revoke"
            onInput={(e) => setDraft({ ...draft, action: e.currentTarget.value })}
            data-testid="audit-filter-action"
          />
        </label>
        <button type="submit" data-testid="audit-filter-apply">
          Filter
        </button>
      </form>
      <ErrorText error={list.error} id="audit-error" />
      {items.length === 0 && !list.loading ? (
        <Empty>No audit events.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Client IP</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {items.map((ev) => (
                <tr key={ev.id} data-testid="audit-row" data-action={ev.action}>
                  <td>{fmtTime(ev.time)}</td>
                  <td>
                    {ev.actor}
                    {ROLE[ev.actorRole] ? <span class="muted"> ({ROLE[ev.actorRole]})</span> : null}
                  </td>
                  <td>
                    <code>{ev.action}</code>
                  </td>
                  <td>{ev.resource}</td>
                  <td>{ev.clientIp}</td>
                  <td>
                    {ev.detailsJson && ev.detailsJson !== "{}" ? (
                      <details>
                        <summary>Show</summary>
                        <pre>{prettyJson(ev.detailsJson)}</pre>
                      </details>
                    ) : (
                      <span class="muted">–</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Loading show={list.loading && items.length === 0} />
      <Pager id="audit" list={list} />
    </main>
  );
}
