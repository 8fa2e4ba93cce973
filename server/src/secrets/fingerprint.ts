// A recognisable, non-secret rendering of a credential, e.g. "sk-…abcd".

const ELLIPSIS = "…";

export function fingerprint(credential: string | undefined): string {
  if (!credential) return "";
  // Reveal at most 7 characters, and only when that is a small part of the secret.
  if (credential.length >= 20) return credential.slice(0, 3) + ELLIPSIS + credential.slice(-4);
  if (credential.length >= 12) return ELLIPSIS + credential.slice(-4);
  return ELLIPSIS;
}
