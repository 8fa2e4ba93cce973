// Model-name globs ("claude-*", "gpt-4o?"). Only * and ? are special, which is all model names need.

export type Matcher = (name: string) => boolean;

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** A matcher for a list of names or globs; an empty list matches everything. */
export function listMatcher(patterns: readonly string[]): Matcher {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  const globs = patterns.filter((p) => /[*?]/.test(p)).map(globToRegExp);
  if (globs.length === 0) return (name) => exact.has(name);
  return (name) => exact.has(name) || globs.some((g) => g.test(name));
}
