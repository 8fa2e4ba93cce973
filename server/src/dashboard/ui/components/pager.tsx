/** What a paged list exposes (see the pages' list hooks). */
export interface PagedList {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  prev(): void;
  next(): void;
}

interface Props {
  /** Prefix for test ids when a page has several pagers. */
  id: string;
  list: PagedList;
}

export function Pager({ id, list }: Props) {
  const p = {
    id,
    page: list.page,
    hasPrev: list.hasPrev,
    hasNext: list.hasNext,
    onPrev: list.prev,
    onNext: list.next,
  };
  return (
    <nav class="pager" aria-label="Pages" data-testid={`${p.id}-pager`}>
      <button type="button" onClick={p.onPrev} disabled={!p.hasPrev} data-testid={`${p.id}-prev`}>
        ← Previous
      </button>
      <span data-testid={`${p.id}-page-number`}>Page {p.page}</span>
      <button type="button" onClick={p.onNext} disabled={!p.hasNext} data-testid={`${p.id}-next`}>
        Next →
      </button>
    </nav>
  );
}
