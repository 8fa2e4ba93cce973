// Cuts anything shaped like a credential out of text before it is stored or shown: captured
// conversation bodies, logged prompts, upstream error messages.

const KEY_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_*-]{6,}/g, // OpenAI and Anthropic keys (sk-, sk-proj-, sk-ant-...)
  /\bAIza[0-9A-Za-z_-]{10,}/g, // Google API keys
  /\bkg_(?:live|admin)_[A-Za-z0-9_-]+/g, // keygate virtual keys and admin tokens
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, // JWTs
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, // credentials echoed as headers
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of KEY_PATTERNS) {
    out = out.replace(pattern, (_match, bearer: unknown) =>
      typeof bearer === "string" ? `${bearer} [redacted]` : "[redacted]",
    );
  }
  return out;
}

/** The secret values the patterns find in a text (the token itself for "Bearer <token>"). */
export function secretsIn(text: string): string[] {
  const found = new Set<string>();
  for (const pattern of KEY_PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const value = m[1] !== undefined ? m[0].slice(m[1].length).trim() : m[0];
      if (value.length >= 8) found.add(value);
    }
  }
  return [...found];
}

/** Redacts the patterns, plus literal values known to be secret (e.g. ones the request carried). */
export function redactWith(text: string, known: readonly string[]): string {
  let out = text;
  for (const v of known) out = out.split(v).join("[redacted]");
  return redactSecrets(out);
}
