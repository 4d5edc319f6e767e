/** Discovery filter state ⇄ URL query string ⇄ the API's SearchRequest. */

export const SORT_FIELDS = ['followers', 'engagement_rate', 'avg_likes', 'name', 'handle'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export type Direction = 'asc' | 'desc';

export interface DiscoverState {
  text: string;
  minFollowers: number | null;
  maxFollowers: number | null;
  /** engagement rate, percent */
  minEngagement: number | null;
  category: string;
  country: string;
  sort: SortField;
  dir: Direction;
  page: number;
  size: number;
}

export const DEFAULT_STATE: DiscoverState = {
  text: '',
  minFollowers: null,
  maxFollowers: null,
  minEngagement: null,
  category: '',
  country: '',
  sort: 'followers',
  dir: 'desc',
  page: 1,
  size: 20,
};

export const PAGE_SIZES = [10, 20, 50, 100];

function num(v: string | null): number | null {
  if (v == null || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function int(v: string | null, dflt: number, min: number, max: number): number {
  const n = num(v);
  if (n == null || !Number.isInteger(n)) return dflt;
  return Math.min(max, Math.max(min, n));
}

/** Parses a query string leniently: anything invalid falls back to the default. */
export function stateFromQuery(q: URLSearchParams | string): DiscoverState {
  const p = typeof q === 'string' ? new URLSearchParams(q) : q;
  const sort = p.get('sort') as SortField | null;
  const dir = p.get('dir');
  const size = int(p.get('size'), DEFAULT_STATE.size, 1, 100);
  return {
    text: (p.get('q') ?? '').trim(),
    minFollowers: num(p.get('min_followers')),
    maxFollowers: num(p.get('max_followers')),
    minEngagement: num(p.get('min_er')),
    category: (p.get('category') ?? '').trim().toLowerCase(),
    country: (p.get('country') ?? '').trim().toUpperCase(),
    sort: sort && SORT_FIELDS.includes(sort) ? sort : DEFAULT_STATE.sort,
    dir: dir === 'asc' || dir === 'desc' ? dir : DEFAULT_STATE.dir,
    page: int(p.get('page'), 1, 1, 10000),
    size: PAGE_SIZES.includes(size) ? size : DEFAULT_STATE.size,
  };
}

/** Only non-default values go into the URL, in a stable order (so equal states give equal URLs). */
export function stateToQuery(s: DiscoverState): string {
  const p = new URLSearchParams();
  if (s.text) p.set('q', s.text);
  if (s.minFollowers != null) p.set('min_followers', String(s.minFollowers));
  if (s.maxFollowers != null) p.set('max_followers', String(s.maxFollowers));
  if (s.minEngagement != null) p.set('min_er', String(s.minEngagement));
  if (s.category) p.set('category', s.category);
  if (s.country) p.set('country', s.country);
  if (s.sort !== DEFAULT_STATE.sort) p.set('sort', s.sort);
  if (s.dir !== DEFAULT_STATE.dir) p.set('dir', s.dir);
  if (s.size !== DEFAULT_STATE.size) p.set('size', String(s.size));
  if (s.page !== 1) p.set('page', String(s.page));
  return p.toString();
}

export interface FilterRequest {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains';
  value: unknown;
}

export interface SearchRequest {
  filters: FilterRequest[];
  sort: { field: string; direction: Direction };
  page: number;
  size: number;
}

export function toSearchRequest(s: DiscoverState): SearchRequest {
  const filters: FilterRequest[] = [];
  if (s.minFollowers != null) filters.push({ field: 'followers', op: 'gte', value: s.minFollowers });
  if (s.maxFollowers != null) filters.push({ field: 'followers', op: 'lte', value: s.maxFollowers });
  if (s.minEngagement != null) filters.push({ field: 'engagement_rate', op: 'gte', value: s.minEngagement });
  if (s.category) filters.push({ field: 'category', op: 'eq', value: s.category });
  if (s.country) filters.push({ field: 'country', op: 'eq', value: s.country });
  if (s.text) filters.push({ field: 'text', op: 'contains', value: s.text });
  return { filters, sort: { field: s.sort, direction: s.dir }, page: s.page, size: s.size };
}

/** Number of result pages; at least 1 so "page 1 of 1" reads right for empty results. */
export function pageCount(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, size)));
}

/** "1–20 of 201". */
export function rangeLabel(page: number, size: number, total: number): string {
  if (total === 0) return '0 results';
  const a = (page - 1) * size + 1;
  const b = Math.min(total, page * size);
  if (a > total) return `0 of ${total}`;
  return `${a}–${b} of ${total}`;
}

/** Parses "1,2, 3" into unique positive ids, keeping order, at most `max`. */
export function parseIds(v: string | null | undefined, max = 10): number[] {
  const out: number[] = [];
  for (const part of (v ?? '').split(',')) {
    const n = Number(part.trim());
    if (part.trim() !== '' && Number.isInteger(n) && n > 0 && !out.includes(n)) out.push(n);
    if (out.length >= max) break;
  }
  return out;
}
