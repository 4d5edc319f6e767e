import { useEffect, useState } from 'preact/hooks';
import { searchProfiles } from '../api/client';
import { CATEGORIES, COUNTRIES, PLATFORMS, type Platform, type ProfileDto } from '../api/types';
import { AddToCollection } from '../components/AddToCollection';
import { Avatar } from '../components/Avatar';
import { ErrorState } from '../components/ErrorState';
import { Loading, SkeletonRows } from '../components/Skeleton';
import { useAsync, useTitle } from '../hooks';
import { formatCount, formatInteger, formatPercent } from '../lib/format';
import {
  DEFAULT_STATE,
  type DiscoverState,
  PAGE_SIZES,
  pageCount,
  rangeLabel,
  SORT_FIELDS,
  stateFromQuery,
  stateToQuery,
} from '../lib/query';
import { navigate, useLocation } from '../router';

const SORT_LABELS: Record<string, string> = {
  followers: 'Followers',
  engagement_rate: 'Engagement rate',
  avg_likes: 'Average likes',
  name: 'Name',
  handle: 'Handle',
};

export const PLATFORM_LABEL: Record<Platform, string> = { instagram: 'Instagram', youtube: 'YouTube' };

function go(platform: Platform, s: DiscoverState, replace = false) {
  const q = stateToQuery(s);
  navigate(`/discover/${platform}${q ? '?' + q : ''}`, { replace });
}

function numOrNull(v: string): number | null {
  if (v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export function DiscoverPage({ platform }: { platform: Platform }) {
  useTitle(`Discover ${PLATFORM_LABEL[platform]} creators`);
  const { search } = useLocation();
  const state = stateFromQuery(search);
  const key = platform + '?' + stateToQuery(state);
  const res = useAsync((signal) => searchProfiles(platform, state, signal), [key]);
  const [draft, setDraft] = useState(() => toDraft(state));
  const [selected, setSelected] = useState<number[]>([]);

  // The URL is the source of truth: when it changes (back button, links), the form follows.
  useEffect(() => setDraft(toDraft(state)), [key]);
  useEffect(() => setSelected([]), [platform]);

  const submit = (e: Event) => {
    e.preventDefault();
    go(platform, {
      ...state,
      text: draft.text.trim(),
      minFollowers: numOrNull(draft.minFollowers),
      maxFollowers: numOrNull(draft.maxFollowers),
      minEngagement: numOrNull(draft.minEngagement),
      category: draft.category.trim().toLowerCase(),
      country: draft.country.trim().toUpperCase(),
      page: 1,
    });
  };
  const reset = () => go(platform, { ...DEFAULT_STATE, sort: state.sort, dir: state.dir, size: state.size });
  const set = (k: keyof Draft) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });

  const page = res.data;
  const pages = page ? pageCount(page.total, state.size) : 1;
  const pageHref = (n: number) => {
    const q = stateToQuery({ ...state, page: n });
    return `/discover/${platform}${q ? '?' + q : ''}`;
  };
  const toggle = (id: number) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : s.length >= 10 ? s : [...s, id]));

  return (
    <section class="page" aria-labelledby="discover-h">
      <div class="page-head">
        <h1 id="discover-h" tabIndex={-1}>
          Discover creators
        </h1>
        <nav aria-label="Platform" class="tabs">
          {PLATFORMS.map((p) => (
            <a key={p} href={`/discover/${p}`} aria-current={p === platform ? 'page' : undefined} class="tab" data-testid={`platform-${p}`}>
              {PLATFORM_LABEL[p]}
            </a>
          ))}
        </nav>
      </div>

      <form class="filters" onSubmit={submit} role="search" aria-label="Filter creators" data-testid="filters">
        <div class="field field-wide">
          <label for="f-text">Search</label>
          <input id="f-text" type="search" placeholder="Name, handle or bio" value={draft.text} onInput={set('text')} data-testid="filter-text" />
        </div>
        <div class="field">
          <label for="f-min">Min followers</label>
          <input id="f-min" type="number" inputMode="numeric" min={0} step={1000} value={draft.minFollowers} onInput={set('minFollowers')} data-testid="filter-min-followers" />
        </div>
        <div class="field">
          <label for="f-max">Max followers</label>
          <input id="f-max" type="number" inputMode="numeric" min={0} step={1000} value={draft.maxFollowers} onInput={set('maxFollowers')} />
        </div>
        <div class="field">
          <label for="f-er">Min engagement (%)</label>
          <input id="f-er" type="number" inputMode="decimal" min={0} step={0.1} value={draft.minEngagement} onInput={set('minEngagement')} />
        </div>
        <div class="field">
          <label for="f-cat">Category</label>
          <select id="f-cat" value={draft.category} onChange={set('category')} data-testid="filter-category">
            <option value="">Any</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-country">Country</label>
          <select id="f-country" value={draft.country} onChange={set('country')}>
            <option value="">Any</option>
            {COUNTRIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit" class="btn btn-primary" data-testid="filter-submit">
            Search
          </button>
          <button type="button" class="btn btn-ghost" onClick={reset}>
            Reset
          </button>
        </div>
      </form>

      <div class="toolbar">
        <p class="muted" aria-live="polite" data-testid="result-count">
          {page ? rangeLabel(state.page, state.size, page.total) : res.status === 'loading' ? 'Searching…' : ''}
        </p>
        <div class="toolbar-controls">
          <label for="sort">Sort by</label>
          <select id="sort" value={state.sort} onChange={(e) => go(platform, { ...state, sort: (e.target as HTMLSelectElement).value as DiscoverState['sort'], page: 1 })} data-testid="sort">
            {SORT_FIELDS.map((f) => (
              <option key={f} value={f}>
                {SORT_LABELS[f]}
              </option>
            ))}
          </select>
          <label for="dir" class="sr-only">
            Direction
          </label>
          <select id="dir" value={state.dir} onChange={(e) => go(platform, { ...state, dir: (e.target as HTMLSelectElement).value as 'asc' | 'desc', page: 1 })}>
            <option value="desc">High to low</option>
            <option value="asc">Low to high</option>
          </select>
          <label for="size">Per page</label>
          <select id="size" value={String(state.size)} onChange={(e) => go(platform, { ...state, size: Number((e.target as HTMLSelectElement).value), page: 1 })}>
            {PAGE_SIZES.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>

      {selected.length > 0 && (
        <div class="selection-bar" data-testid="selection-bar">
          <span>
            {selected.length} selected{selected.length >= 10 ? ' (max 10)' : ''}
          </span>
          <a class="btn" href={`/compare/${platform}?ids=${selected.join(',')}`} data-testid="compare-selected">
            Compare selected
          </a>
          <AddToCollection platform={platform} ids={selected} idPrefix="sel" />
          <button type="button" class="btn btn-ghost" onClick={() => setSelected([])}>
            Clear
          </button>
        </div>
      )}

      {res.error && <ErrorState error={res.error} onRetry={res.reload} what="search results" />}

      <div class="table-wrap" aria-busy={res.status === 'loading'}>
        {res.status === 'loading' && <Loading label="Loading search results" />}
        <table class="data results" data-testid="results">
          <caption class="sr-only">{PLATFORM_LABEL[platform]} creators matching the filters</caption>
          <thead>
            <tr>
              <th scope="col" class="col-check">
                <span class="sr-only">Select</span>
              </th>
              <th scope="col">Creator</th>
              <th scope="col" class="num" aria-sort={state.sort === 'followers' ? (state.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                {platform === 'youtube' ? 'Subscribers' : 'Followers'}
              </th>
              <th scope="col" class="num" aria-sort={state.sort === 'engagement_rate' ? (state.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                Engagement
              </th>
              <th scope="col" class="num hide-sm" aria-sort={state.sort === 'avg_likes' ? (state.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                Avg likes
              </th>
              <th scope="col" class="hide-sm">
                Category
              </th>
              <th scope="col" class="hide-sm">
                Country
              </th>
            </tr>
          </thead>
          <tbody>
            {!page && res.status === 'loading' && <SkeletonRows rows={Math.min(state.size, 10)} cols={7} />}
            {page?.items.map((p) => <ResultRow key={p.id} p={p} checked={selected.includes(p.id)} onToggle={() => toggle(p.id)} />)}
          </tbody>
        </table>
        {page && page.items.length === 0 && (
          <div class="empty" data-testid="empty">
            <p>
              <strong>No creators match these filters.</strong>
            </p>
            <p class="muted">Try a wider follower range or fewer filters.</p>
            <button type="button" class="btn" onClick={reset}>
              Clear filters
            </button>
          </div>
        )}
      </div>

      {page && page.total > 0 && (
        <nav class="pager" aria-label="Pages" data-testid="pager">
          {state.page > 1 ? (
            <a class="btn" href={pageHref(state.page - 1)} rel="prev" data-testid="page-prev">
              ← Previous
            </a>
          ) : (
            <span class="btn" aria-disabled="true">
              ← Previous
            </span>
          )}
          <span data-testid="page-indicator">
            Page {state.page} of {pages}
          </span>
          {state.page < pages ? (
            <a class="btn" href={pageHref(state.page + 1)} rel="next" data-testid="page-next">
              Next →
            </a>
          ) : (
            <span class="btn" aria-disabled="true">
              Next →
            </span>
          )}
        </nav>
      )}
    </section>
  );
}

interface Draft {
  text: string;
  minFollowers: string;
  maxFollowers: string;
  minEngagement: string;
  category: string;
  country: string;
}

function toDraft(s: DiscoverState): Draft {
  const str = (n: number | null) => (n == null ? '' : String(n));
  return {
    text: s.text,
    minFollowers: str(s.minFollowers),
    maxFollowers: str(s.maxFollowers),
    minEngagement: str(s.minEngagement),
    category: s.category,
    country: s.country,
  };
}

function ResultRow({ p, checked, onToggle }: { p: ProfileDto; checked: boolean; onToggle: () => void }) {
  const href = `/p/${p.platform}/${p.id}`;
  return (
    <tr data-testid="result-row" data-profile-id={p.id}>
      <td class="col-check">
        <input type="checkbox" checked={checked} onChange={onToggle} aria-label={`Select ${p.name} (@${p.handle})`} data-testid="select-row" />
      </td>
      <td>
        <div class="creator">
          <Avatar name={p.name} handle={p.handle} url={p.picture_url} />
          <div class="creator-text">
            <a href={href} class="creator-name" data-testid="profile-link">
              {p.name}
            </a>
            <span class="muted small">
              @{p.handle}
              {p.is_verified && (
                <span class="verified" title="Verified">
                  {' '}
                  ✓<span class="sr-only"> verified</span>
                </span>
              )}
            </span>
          </div>
        </div>
      </td>
      <td class="num" title={formatInteger(p.followers)} data-testid="followers">
        {formatCount(p.followers)}
      </td>
      <td class="num">{formatPercent(p.engagement_rate)}</td>
      <td class="num hide-sm">{formatCount(p.avg_likes)}</td>
      <td class="hide-sm">{p.category ?? <span class="muted">—</span>}</td>
      <td class="hide-sm">{p.country ?? <span class="muted">—</span>}</td>
    </tr>
  );
}
