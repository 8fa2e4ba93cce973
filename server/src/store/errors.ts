// Recognises Postgres error classes the Admin API turns into specific status codes. Both pg and
// PGlite attach the SQLSTATE as `code`.

function sqlState(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === "23505";
}

export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === "23503";
}
