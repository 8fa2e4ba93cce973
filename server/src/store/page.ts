// Keyset pagination: fetch one row more than asked to learn whether another page exists.

export interface Page<T, C> {
  rows: T[];
  /** Cursor of the last returned row when more rows follow. */
  next?: C;
}

export function toPage<T, C>(rows: T[], limit: number, cursorOf: (row: T) => C): Page<T, C> {
  if (rows.length <= limit) return { rows };
  const kept = rows.slice(0, limit);
  return { rows: kept, next: cursorOf(kept[kept.length - 1] as T) };
}

/** Position in a newest-first listing ordered by (time desc, id desc). */
export interface TimeCursor {
  time: Date;
  id: string;
}
