// Small value checks shared by the file schema and the environment reader.

export function hasScheme(value: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export const HTTP_SCHEMES = ["http:", "https:"] as const;
export const POSTGRES_SCHEMES = ["postgres:", "postgresql:"] as const;
export const REDIS_SCHEMES = ["redis:", "rediss:"] as const;

/** A master key is 32 random bytes in canonical base64 (e.g. `openssl rand -base64 32`). */
export function isMasterKey(value: string): boolean {
  const bytes = Buffer.from(value, "base64");
  return bytes.length === 32 && bytes.toString("base64") === value;
}

// RFC 9110 token characters; a header value may not break the line.
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const isHeaderValue = (value: string): boolean => !/[\r\n\0]/.test(value);

/** Provider names end up in Admin API resource names and log fields. */
export const PROVIDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
