import type { ComponentChildren } from "preact";

/** An inline error, announced to screen readers as it appears. */
export function ErrorText({ error, id }: { error: string | undefined; id?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert" data-testid={id ?? "error"}>
      {error}
    </p>
  );
}

export function Loading({ show }: { show: boolean }) {
  return show ? (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
