import { createAdminClient, type AdminClient } from "../../../../sdk/index.js";

// sessionStorage: the token lives only as long as the tab, and never in a cookie the browser sends on its own.
const TOKEN_KEY = "keygate.adminToken";

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function clientFor(token: string): AdminClient {
  return createAdminClient({ baseUrl: location.origin, token });
}
