import type { RowsPage } from "../api";

const SIZES = [25, 50, 100, 500, 1000];

export function Pager({ page, onPage }: { page: RowsPage; onPage: (offset: number, limit: number) => void }) {
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.rows.length;
  return (
    <span class="pager">
      <button aria-label="previous page" disabled={page.offset === 0} onClick={() => onPage(Math.max(0, page.offset - page.limit), page.limit)}>‹</button>
      <span data-testid="range">{first}–{last} of {page.total}</span>
      <button aria-label="next page" disabled={last >= page.total} onClick={() => onPage(page.offset + page.limit, page.limit)}>›</button>
      <select aria-label="rows per page" value={page.limit} onChange={(e) => onPage(0, Number(e.currentTarget.value))}>
        {SIZES.map((s) => <option value={s}>{s} rows</option>)}
      </select>
    </span>
  );
}
