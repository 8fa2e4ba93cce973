import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import type { AdminClient, GetStatusResponse } from "../../../../sdk/index.js";
import { StatusHeader } from "./components/status-header.js";
import { errorMessage, isUnauthenticated } from "./errors.js";
import { AuditPage } from "./pages/audit.js";
import { InstancePage } from "./pages/instance.js";
import { InstancesPage } from "./pages/instances.js";
import { LivePage } from "./pages/live.js";
import { LoginPage } from "./pages/login.js";
import { ProvidersPage } from "./pages/providers.js";
import { UsagePage } from "./pages/usage.js";
import { navigate, useRoute, type Route } from "./router.js";
import { clearToken, clientFor, loadToken, saveToken } from "./session.js";
import { SessionContext, type Session } from "./session-context.js";

const STATUS_REFRESH_MS = 30_000;

interface Signed {
  client: AdminClient;
  status: GetStatusResponse;
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "live":
      return <LivePage />;
    case "instances":
      return <InstancesPage />;
    case "instance":
      return <InstancePage key={route.id} id={route.id} />;
    case "providers":
      return <ProvidersPage />;
    case "audit":
      return <AuditPage />;
    default:
      return <UsagePage />;
  }
}

export function App() {
  const route = useRoute();
  const [signed, setSigned] = useState<Signed | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  // A token kept from earlier in this tab is checked again before any page shows.
  const [resuming, setResuming] = useState(() => loadToken() !== null);

  const signOut = useCallback((message?: string) => {
    clearToken();
    setSigned(undefined);
    setNotice(message);
    navigate({ page: "login" });
  }, []);

  useEffect(() => {
    const token = loadToken();
    if (!token) return;
    const client = clientFor(token);
    client.getStatus({}).then(
      (status) => {
        setSigned({ client, status });
        setResuming(false);
      },
      (e: unknown) => {
        clearToken();
        setNotice(errorMessage(e));
        setResuming(false);
      },
    );
  }, []);

  useEffect(() => {
    if (!signed) return;
    const t = setInterval(() => {
      signed.client.getStatus({}).then(
        (status) => setSigned((s) => (s && s.client === signed.client ? { ...s, status } : s)),
        (e: unknown) => {
          if (isUnauthenticated(e)) signOut(errorMessage(e));
        },
      );
    }, STATUS_REFRESH_MS);
    return () => clearInterval(t);
  }, [signed?.client, signOut]);

  const session = useMemo<Session | null>(
    () => (signed ? { client: signed.client, status: signed.status, signOut } : null),
    [signed, signOut],
  );

  if (resuming) return <p class="muted center">Checking session…</p>;
  if (!session) {
    return (
      <LoginPage
        notice={notice}
        onSignedIn={(token, client, status) => {
          saveToken(token);
          setNotice(undefined);
          setSigned({ client, status });
          if (route.page === "login") navigate({ page: "usage" });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <StatusHeader status={session.status} route={route} onSignOut={() => signOut("Signed out.")} />
      <Page route={route} />
    </SessionContext.Provider>
  );
}
