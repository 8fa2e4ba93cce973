import { AdminRole, type DependencyStatus, type GetStatusResponse } from "../../../../../sdk/index.js";
import { fmtInt } from "../format.js";
import { hrefFor, type Route } from "../router.js";

const NAV: { route: Route; label: string }[] = [
  { route: { page: "usage" }, label: "Usage" },
  { route: { page: "live" }, label: "Live" },
  { route: { page: "instances" }, label: "Instances & keys" },
  { route: { page: "providers" }, label: "Providers" },
  { route: { page: "audit" }, label: "Audit" },
];

const ROLE: Record<AdminRole, string> = {
  [AdminRole.UNSPECIFIED]: "unknown role",
  [AdminRole.ADMIN]: "admin",
  [AdminRole.OPERATOR]: "operator",
  [AdminRole.VIEWER]: "viewer",
};

function Dep({ label, dep, id }: { label: string; dep: DependencyStatus | undefined; id: string }) {
  if (!dep || !dep.configured) {
    return (
      <span class="dep" data-testid={id} data-state="off">
        {label}: {dep?.kind || "not configured"}
      </span>
    );
  }
  return (
    <span class="dep" data-testid={id} data-state={dep.ok ? "ok" : "down"} title={dep.message || undefined}>
      <span class={dep.ok ? "dot ok" : "dot down"} aria-hidden="true" />
      {label}: {dep.kind} {dep.ok ? "ok" : "down"}
    </span>
  );
}

interface Props {
  status: GetStatusResponse;
  route: Route;
  onSignOut(): void;
}

export function StatusHeader({ status, route, onSignOut }: Props) {
  const current = route.page === "instance" ? "instances" : route.page;
  return (
    <header class="top">
      <div class="brand">
        <strong>keygate</strong>
        <span class="muted" data-testid="status-version">
          v{status.version}
        </span>
      </div>
      <nav aria-label="Main">
        {NAV.map((n) => (
          <a
            href={hrefFor(n.route)}
            aria-current={n.route.page === current ? "page" : undefined}
            data-testid={`nav-${n.route.page}`}
          >
            {n.label}
          </a>
        ))}
      </nav>
      <div class="status" data-testid="status-header">
        <span data-testid="status-replica">replica {status.replicaId || "–"}</span>
        <Dep label="db" dep={status.database} id="status-db" />
        <Dep label="redis" dep={status.redis} id="status-redis" />
        {status.usageBuffered > 0n ? (
          <span class="dep" data-state="down">
            {fmtInt(status.usageBuffered)} records buffered
          </span>
        ) : null}
        <span class="who" data-testid="status-caller">
          {status.callerName || "token"} ({ROLE[status.callerRole]})
        </span>
        <button type="button" onClick={onSignOut} data-testid="logout">
          Sign out
        </button>
      </div>
    </header>
  );
}
