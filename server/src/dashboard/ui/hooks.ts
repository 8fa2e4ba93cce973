import { useCallback, useEffect, useState } from "preact/hooks";
import { errorMessage, isAbort, isUnauthenticated } from "./errors.js";
import { useSession } from "./session-context.js";

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * Runs an Admin API call whenever its inputs change, cancelling the previous one so a slow
 * answer can never overwrite a newer one. A rejected token ends the session. `deps` must be
 * JSON-serialisable: `loading` stays true until data for exactly these inputs has arrived.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const { signOut } = useSession();
  const [nonce, setNonce] = useState(0);
  const key = JSON.stringify([...deps, nonce]);
  // The previous answer stays on screen while the next one loads, so pages do not flicker.
  const [state, setState] = useState<{ key?: string; data?: T; error?: string }>({});
  useEffect(() => {
    const ctrl = new AbortController();
    load(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ key, data });
      },
      (e: unknown) => {
        if (ctrl.signal.aborted || isAbort(e)) return;
        if (isUnauthenticated(e)) return signOut(errorMessage(e));
        setState((s) => ({ key, data: s.data, error: errorMessage(e) }));
      },
    );
    return () => ctrl.abort();
  }, [key]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return {
    data: state.data,
    error: state.key === key ? state.error : undefined,
    loading: state.key !== key,
    reload,
  };
}

export interface Page<T> {
  items: T[];
  next: string;
}

export interface Paged<T> extends Loaded<Page<T>> {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  prev(): void;
  next(): void;
}

/** Token-based paging: remembers the token of every page seen so "previous" needs no server support. */
export function usePaged<T>(
  load: (pageToken: string, signal: AbortSignal) => Promise<Page<T>>,
  deps: unknown[],
): Paged<T> {
  const key = JSON.stringify(deps);
  // New filters start again at the first page.
  const [state, setState] = useState({ key, tokens: [""] });
  const tokens = state.key === key ? state.tokens : [""];
  const token = tokens[tokens.length - 1] ?? "";
  const res = useLoad((signal) => load(token, signal), [key, token]);
  return {
    ...res,
    page: tokens.length,
    hasPrev: tokens.length > 1,
    hasNext: !!res.data?.next && !res.loading,
    prev: () => setState({ key, tokens: tokens.length > 1 ? tokens.slice(0, -1) : tokens }),
    next: () => {
      const n = res.data?.next;
      if (n) setState({ key, tokens: [...tokens, n] });
    },
  };
}

/** Runs a user action, tracking busy and error state; a rejected token ends the session. */
export function useAction(): {
  busy: boolean;
  error: string | undefined;
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
  clear(): void;
} {
  const { signOut } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = useCallback(
    async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
      setBusy(true);
      setError(undefined);
      try {
        return await fn();
      } catch (e) {
        if (isUnauthenticated(e)) signOut(errorMessage(e));
        else setError(errorMessage(e));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [signOut],
  );
  return { busy, error, run, clear: () => setError(undefined) };
}
