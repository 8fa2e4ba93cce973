import { useState } from "preact/hooks";
import type { Instance } from "../../../../../sdk/index.js";
import { ErrorText, Empty, Loading } from "../components/messages.js";
import { Pager } from "../components/pager.js";
import { fmtTime } from "../format.js";
import { useAction, usePaged } from "../hooks.js";
import { hrefFor, navigate } from "../router.js";
import { useSession } from "../session-context.js";

const PAGE_SIZE = 50;
const ID_PATTERN = "[a-z0-9][a-z0-9_\\-]{0,62}";

/** "team=a, env=prod" → { team: "a", env: "prod" }; anything else is a message. */
function parseLabels(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) return `"${part}" is not key=value.`;
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function CreateInstance({ onCreated }: { onCreated(id: string): void }) {
  const { client } = useSession();
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [labels, setLabels] = useState("");
  const [labelError, setLabelError] = useState<string | undefined>(undefined);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseLabels(labels);
    if (typeof parsed === "string") return setLabelError(parsed);
    setLabelError(undefined);
    const res = await action.run(() =>
      client.createInstance({
        instanceId: id.trim(),
        instance: { displayName: name.trim(), labels: parsed },
      }),
    );
    if (res?.instance) onCreated(res.instance.id);
  };
  return (
    <form class="card inline-form wrap" onSubmit={submit} aria-labelledby="create-instance">
      <h2 id="create-instance">New instance</h2>
      <label>
        ID
        <input
          value={id}
          required
          pattern={ID_PATTERN}
          title="1-63 of a-z, 0-9, - and _, starting with a letter or digit"
          onInput={(e) => setId(e.currentTarget.value)}
          data-testid="instance-new-id"
        />
      </label>
      <label>
        Display name
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="instance-new-name" />
      </label>
      <label>
        Labels
        <input
          value={labels}
          placeholder="team=a, env=prod"
          onInput={(e) => setLabels(e.currentTarget.value)}
          data-testid="instance-new-labels"
        />
      </label>
      <button type="submit" class="primary" disabled={action.busy} data-testid="instance-create">
        Create
      </button>
      <ErrorText error={labelError ?? action.error} id="instance-create-error" />
    </form>
  );
}

function labelText(i: Instance): string {
  return Object.entries(i.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

function InstanceRow({ instance, onChanged }: { instance: Instance; onChanged(): void }) {
  const { client } = useSession();
  const action = useAction();
  const toggle = async () => {
    const res = await action.run(() =>
      client.updateInstance({
        instance: { id: instance.id, disabled: !instance.disabled },
        updateMask: { paths: ["disabled"] },
      }),
    );
    if (res) onChanged();
  };
  return (
    <tr data-testid="instance-row" data-instance={instance.id} data-disabled={String(instance.disabled)}>
      <th scope="row">
        <a href={hrefFor({ page: "instance", id: instance.id })} data-testid="instance-open">
          {instance.id}
        </a>
      </th>
      <td>{instance.displayName}</td>
      <td class="muted">{labelText(instance)}</td>
      <td>
        <span class={`badge ${instance.disabled ? "bad" : "ok"}`} data-testid="instance-state">
          {instance.disabled ? "disabled" : "enabled"}
        </span>
      </td>
      <td>{fmtTime(instance.createTime)}</td>
      <td class="actions-cell">
        <button type="button" onClick={toggle} disabled={action.busy} data-testid="instance-toggle">
          {instance.disabled ? "Enable" : "Disable"}
        </button>
        <ErrorText error={action.error} id="instance-toggle-error" />
      </td>
    </tr>
  );
}

export function InstancesPage() {
  const { client } = useSession();
  const [labelDraft, setLabelDraft] = useState("");
  const [labelFilter, setLabelFilter] = useState<Record<string, string>>({});
  const [filterError, setFilterError] = useState<string | undefined>(undefined);
  const list = usePaged(
    async (pageToken, signal) => {
      const res = await client.listInstances(
        { pageSize: PAGE_SIZE, pageToken, labels: labelFilter },
        { signal },
      );
      return { items: res.instances, next: res.nextPageToken };
    },
    [labelFilter],
  );
  const items = list.data?.items ?? [];
  return (
    <main data-testid="instances-page" data-state={list.loading ? "loading" : "ready"}>
      <h1>Instances &amp; keys</h1>
      <CreateInstance onCreated={(id) => navigate({ page: "instance", id })} />
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseLabels(labelDraft);
          if (typeof parsed === "string") return setFilterError(parsed);
          setFilterError(undefined);
          setLabelFilter(parsed);
        }}
      >
        <label>
          Labels
          <input
            value={labelDraft}
            placeholder="team=a"
            onInput={(e) => setLabelDraft(e.currentTarget.value)}
            data-testid="instances-filter-labels"
          />
        </label>
        <button type="submit" data-testid="instances-filter-apply">
          Filter
        </button>
      </form>
      <ErrorText error={filterError ?? list.error} id="instances-error" />
      {items.length === 0 && !list.loading ? (
        <Empty>No instances{Object.keys(labelFilter).length ? " with these labels" : ""}.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="instances-table">
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Name</th>
                <th scope="col">Labels</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <InstanceRow key={i.id} instance={i} onChanged={list.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Loading show={list.loading && items.length === 0} />
      <Pager id="instances" list={list} />
    </main>
  );
}
