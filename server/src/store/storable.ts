// Values a usage batch can always store. Model names, user agents and response bodies come from
// clients and upstreams; one value Postgres refuses (a NUL character, a lone UTF-16 surrogate, a
// token count past the integer column's range) would fail its whole batch on every retry, and
// every record queued behind it would wait.

const UNSTORABLE = /[\0\uD800-\uDFFF]/;
const LONE_SURROGATE_OR_NUL = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The string with NUL characters and lone surrogates replaced by U+FFFD (the common case is a test). */
export function storableText(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(LONE_SURROGATE_OR_NUL, "\uFFFD") : s;
}

const INT4_MAX = 2_147_483_647;

/** A count for an `integer` column: a whole number in 0..2^31-1. */
export function storableCount(n: number): number {
  return n > 0 ? (n < INT4_MAX ? Math.floor(n) : INT4_MAX) : 0;
}

/** A double for a nullable column: NaN and infinities become null (as they do in JSON). */
export function storableDouble(n: number | null): number | null {
  return n !== null && Number.isFinite(n) ? n : null;
}

/** Attempts whose strings are all storable (the same array when they already are). */
export function storableAttempts<A extends { providerId: string; model: string; errorClass: string }>(
  attempts: A[],
): A[] {
  const ok = attempts.every(
    (a) => !UNSTORABLE.test(a.model) && !UNSTORABLE.test(a.providerId) && !UNSTORABLE.test(a.errorClass),
  );
  if (ok) return attempts;
  return attempts.map((a) => ({
    ...a,
    providerId: storableText(a.providerId),
    model: storableText(a.model),
    errorClass: storableText(a.errorClass),
  }));
}
