// Follows list pages until the caller's limit (or the end) is reached.

export interface Page<T> {
  items: T[];
  next: string;
}

const MAX_PAGE = 1000;

/**
 * Calls `fetchPage` from `pageToken` until `limit` items are collected or there are no more.
 * Returns the items and the token to continue from ("" when the list is exhausted).
 */
export async function collectPages<T>(
  fetchPage: (pageToken: string, pageSize: number) => Promise<Page<T>>,
  opts: { limit?: number; pageToken?: string },
): Promise<Page<T>> {
  const items: T[] = [];
  let token = opts.pageToken ?? "";
  for (;;) {
    const want = opts.limit === undefined ? MAX_PAGE : Math.min(opts.limit - items.length, MAX_PAGE);
    const page = await fetchPage(token, want);
    items.push(...page.items);
    // A token that does not move would loop forever; treat it as the end.
    const moved = page.next !== "" && page.next !== token;
    token = moved ? page.next : "";
    if (!moved) return { items, next: "" };
    if (opts.limit !== undefined && items.length >= opts.limit) {
      return { items: items.slice(0, opts.limit), next: token };
    }
  }
}
