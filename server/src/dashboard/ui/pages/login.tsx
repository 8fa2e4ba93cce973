import { useState } from "preact/hooks";
import type { AdminClient, GetStatusResponse } from "../../../../../sdk/index.js";
import { ErrorText } from "../components/messages.js";
import { errorMessage } from "../errors.js";
import { clientFor } from "../session.js";

interface Props {
  notice: string | undefined;
  onSignedIn(token: string, client: AdminClient, status: GetStatusResponse): void;
}

export function LoginPage({ notice, onSignedIn }: Props) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError("Paste an admin token.");
    setBusy(true);
    setError(undefined);
    const client = clientFor(t);
    try {
      // Any call verifies the token; GetStatus is the cheapest and also fills the header.
      const status = await client.getStatus({});
      onSignedIn(t, client, status);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" data-testid="login-page">
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h1 id="login-title">keygate</h1>
        <p class="muted">Sign in with an admin token.</p>
        {notice && !error ? (
          <p class="notice" role="status" data-testid="login-notice">
            {notice}
          </p>
        ) : null}
        <label for="token">Admin token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          data-testid="login-token"
          required
        />
        <ErrorText error={error} id="login-error" />
        <button type="submit" class="primary" disabled={busy} data-testid="login-submit">
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
