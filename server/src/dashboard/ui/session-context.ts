import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { AdminClient, GetStatusResponse } from "../../../../sdk/index.js";

export interface Session {
  client: AdminClient;
  status: GetStatusResponse;
  /** Ends the session; the message is shown on the login page. */
  signOut(message?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}
