import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { useState } from "preact/hooks";
import { KeyState, type VirtualKey } from "../../../../../sdk/index.js";
import { ConfirmDialog } from "../components/confirm-dialog.js";
import { ErrorText, Empty, Loading } from "../components/messages.js";
import { Pager } from "../components/pager.js";
import { SecretDialog } from "../components/secret-dialog.js";
import { fmtTime } from "../format.js";
import { useAction, useLoad, usePaged } from "../hooks.js";
import { useSession } from "../session-context.js";

const PAGE_SIZE = 50;
const DAY = 86_400_000;

const TTLS = [
  { label: "Never", ms: 0 },
  { label: "1 day", ms: DAY },
  { label: "7 days", ms: 7 * DAY },
  { label: "30 days", ms: 30 * DAY },
  { label: "90 days", ms: 90 * DAY },
];

const GRACES = [
  { label: "Revoke the old secret now", ms: 0 },
  { label: "Keep it working for 1 hour", ms: 3_600_000 },
  { label: "Keep it working for 24 hours", ms: DAY },
];

const STATE: Record<KeyState, { text: string; cls: string }> = {
  [KeyState.UNSPECIFIED]: { text: "unknown", cls: "" },
  [KeyState.ACTIVE]: { text: "active", cls: "ok" },
  [KeyState.REVOKED]: { text: "revoked", cls: "bad" },
  [KeyState.EXPIRED]: { text: "expired", cls: "warn" },
};

type Pending = { kind: "revoke"; key: VirtualKey } | { kind: "rotate"; key: VirtualKey };

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function CreateKey({ instanceId, onSecret }: { instanceId: string; onSecret(secret: string): void }) {
  const { client } = useSession();
  const [name, setName] = useState("");
  const [models, setModels] = useState("");
  const [ttl, setTtl] = useState(0);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const res = await action.run(() =>
      client.createKey({
        instanceId,
        displayName: name.trim(),
        allowedModels: splitList(models),
        ...(ttl > 0 ? { ttl: durationFromMs(ttl) } : {}),
      }),
    );
    if (res) {
      setName("");
      setModels("");
      onSecret(res.secret);
    }
  };
  return (
    <form class="card inline-form wrap" onSubmit={submit} aria-labelledby="create-key">
      <h2 id="create-key">New key</h2>
      <label>
        Name
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="key-new-name" />
      </label>
      <label>
        Allowed models
        <input
          value={models}
          placeholder="all (or gpt-4o, claude-*)"
          onInput={(e) => setModels(e.currentTarget.value)}
          data-testid="key-new-models"
        />
      </label>
      <label>
        Expires
        <select
          value={String(ttl)}
          onChange={(e) => setTtl(Number(e.currentTarget.value))}
          data-testid="key-new-ttl"
        >
          {TTLS.map((t) => (
            <option key={t.ms} value={String(t.ms)}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="primary" disabled={action.busy} data-testid="key-create">
        Create key
      </button>
      <ErrorText error={action.error} id="key-create-error" />
    </form>
  );
}

function KeyActionDialog({
  pending,
  onDone,
  onCancel,
}: {
  pending: Pending;
  onDone(secret?: string): void;
  onCancel(): void;
}) {
  const { client } = useSession();
  const action = useAction();
  const [grace, setGrace] = useState(0);
  const k = pending.key;
  const label = `${k.displayName || k.id} (${k.prefix}…)`;
  if (pending.kind === "revoke") {
    return (
      <ConfirmDialog
        title="Revoke key?"
        confirmLabel="Revoke"
        danger
        busy={action.busy}
        error={action.error}
        onCancel={onCancel}
        onConfirm={async () => {
          if (await action.run(() => client.revokeKey({ id: k.id }))) onDone();
        }}
      >
        <p>
          <strong>{label}</strong> stops working on every replica at once. This cannot be undone.
        </p>
      </ConfirmDialog>
    );
  }
  return (
    <ConfirmDialog
      title="Rotate key?"
      confirmLabel="Rotate"
      busy={action.busy}
      error={action.error}
      onCancel={onCancel}
      onConfirm={async () => {
        const res = await action.run(() =>
          client.rotateKey({ id: k.id, gracePeriod: durationFromMs(grace) }),
        );
        if (res) onDone(res.secret);
      }}
    >
      <p>
        <strong>{label}</strong> gets a new secret.
      </p>
      <label>
        Old secret
        <select
          value={String(grace)}
          onChange={(e) => setGrace(Number(e.currentTarget.value))}
          data-testid="rotate-grace"
        >
          {GRACES.map((g) => (
            <option key={g.ms} value={String(g.ms)}>
              {g.label}
            </option>
          ))}
        </select>
      </label>
    </ConfirmDialog>
  );
}

function KeyRow({ k, onAction }: { k: VirtualKey; onAction(p: Pending): void }) {
  const state = STATE[k.state];
  const usable = k.state === KeyState.ACTIVE;
  return (
    <tr data-testid="key-row" data-key={k.id} data-state={state.text}>
      <th scope="row">
        <code>{k.prefix}…</code>
      </th>
      <td>{k.displayName}</td>
      <td>
        <span class={`badge ${state.cls}`} data-testid="key-state">
          {state.text}
        </span>
      </td>
      <td class="muted">{k.allowedModels.join(", ") || "policy"}</td>
      <td>{fmtTime(k.createTime)}</td>
      <td>{fmtTime(k.expiresAt)}</td>
      <td>{fmtTime(k.lastUsedAt)}</td>
      <td class="actions-cell">
        {usable ? (
          <>
            <button
              type="button"
              onClick={() => onAction({ kind: "rotate", key: k })}
              data-testid="key-rotate"
            >
              Rotate
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => onAction({ kind: "revoke", key: k })}
              data-testid="key-revoke"
            >
              Revoke
            </button>
          </>
        ) : null}
      </td>
    </tr>
  );
}

export function InstancePage({ id }: { id: string }) {
  const { client } = useSession();
  const inst = useLoad((signal) => client.getInstance({ id }, { signal }), [id]);
  const [showRevoked, setShowRevoked] = useState(false);
  const [secret, setSecret] = useState<{ title: string; value: string } | undefined>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const toggle = useAction();
  const keys = usePaged(
    async (pageToken, signal) => {
      const res = await client.listKeys(
        { instanceId: id, pageSize: PAGE_SIZE, pageToken, includeRevoked: showRevoked },
        { signal },
      );
      return { items: res.keys, next: res.nextPageToken };
    },
    [id, showRevoked],
  );
  const instance = inst.data?.instance;
  const items = keys.data?.items ?? [];
  return (
    <main data-testid="instance-page" data-instance={id}>
      <p>
        <a href="#/instances">← All instances</a>
      </p>
      <div class="section-head">
        <h1>
          Instance <code>{id}</code>
        </h1>
        {instance ? (
          <div class="inline-form">
            <span class={`badge ${instance.disabled ? "bad" : "ok"}`} data-testid="instance-state">
              {instance.disabled ? "disabled" : "enabled"}
            </span>
            <button
              type="button"
              disabled={toggle.busy}
              data-testid="instance-toggle"
              onClick={async () => {
                const res = await toggle.run(() =>
                  client.updateInstance({
                    instance: { id, disabled: !instance.disabled },
                    updateMask: { paths: ["disabled"] },
                  }),
                );
                if (res) inst.reload();
              }}
            >
              {instance.disabled ? "Enable" : "Disable"}
            </button>
          </div>
        ) : null}
      </div>
      <ErrorText error={inst.error ?? toggle.error} id="instance-error" />
      {instance?.displayName ? <p class="muted">{instance.displayName}</p> : null}
      <CreateKey
        instanceId={id}
        onSecret={(value) => {
          setSecret({ title: "New key", value });
          keys.reload();
        }}
      />
      <div class="section-head">
        <h2>Keys</h2>
        <label>
          <input
            type="checkbox"
            checked={showRevoked}
            onChange={(e) => setShowRevoked(e.currentTarget.checked)}
            data-testid="keys-show-revoked"
          />
          Show revoked
        </label>
      </div>
      <ErrorText error={keys.error} id="keys-error" />
      {items.length === 0 && !keys.loading ? (
        <Empty>No keys.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="keys-table">
            <thead>
              <tr>
                <th scope="col">Prefix</th>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Models</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <KeyRow key={k.id} k={k} onAction={setPending} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Loading show={keys.loading && items.length === 0} />
      <Pager id="keys" list={keys} />
      {pending ? (
        <KeyActionDialog
          pending={pending}
          onCancel={() => setPending(undefined)}
          onDone={(s) => {
            setPending(undefined);
            if (s) setSecret({ title: "Rotated key", value: s });
            keys.reload();
          }}
        />
      ) : null}
      {secret ? (
        <SecretDialog title={secret.title} secret={secret.value} onClose={() => setSecret(undefined)} />
      ) : null}
    </main>
  );
}
