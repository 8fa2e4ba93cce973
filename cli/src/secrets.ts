// Every secret gwctl handles (admin token, provider credentials) is registered here so that no
// message it prints can ever contain one, whatever a server or library puts in an error.
const known = new Set<string>();

export function rememberSecret(value: string | undefined): void {
  // Very short values would blank out ordinary words; real secrets are long.
  if (value && value.length >= 8) known.add(value);
}

/** Replaces every known secret in `text` and folds it onto one line. */
export function redact(text: string): string {
  let out = text;
  for (const secret of known) out = out.split(secret).join("***");
  return out.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
