import { useMemo, useState } from 'preact/hooks';
import { compareProfiles, getTimeseries, searchProfiles } from '../api/client';
import { type Granularity, PLATFORMS, type Platform, type ProfileDto } from '../api/types';
import { Avatar } from '../components/Avatar';
import { Chart, ChartSkeleton, PALETTE } from '../components/Chart';
import { ErrorState, InlineError } from '../components/ErrorState';
import { GrowthBadge } from '../components/Growth';
import { GRANULARITY_CHOICES, SelectField } from '../components/SelectField';
import { SkeletonRows } from '../components/Skeleton';
import { useAsync, useTitle } from '../hooks';
import { isoDate, normalizeRange } from '../lib/dates';
import { formatCount, formatPercent } from '../lib/format';
import { DEFAULT_STATE, parseIds } from '../lib/query';
import { alignSeries } from '../lib/series';
import { navigate, useLocation } from '../router';
import { PLATFORM_LABEL } from './Discover';
import type { ApiError } from '../api/problem';

const MAX = 10;
const METRICS = [
  { value: 'followers', label: 'Followers' },
  { value: 'engagement_rate', label: 'Engagement rate' },
  { value: 'avg_views', label: 'Average views' },
  { value: 'avg_likes', label: 'Average likes' },
];

export function ComparePage({ platform }: { platform: Platform }) {
  useTitle(`Compare ${PLATFORM_LABEL[platform]} creators`);
  const { search } = useLocation();
  const q = new URLSearchParams(search);
  const ids = parseIds(q.get('ids'), MAX);
  const today = isoDate(new Date());
  const range = normalizeRange(q.get('from'), q.get('to'), today, 90);
  const metric = METRICS.some((m) => m.value === q.get('metric')) ? q.get('metric')! : 'followers';
  const g: Granularity = (['day', 'week', 'month'] as string[]).includes(q.get('g') ?? '') ? (q.get('g') as Granularity) : 'week';
  const idsKey = ids.join(',');

  const setParams = (patch: Record<string, string | null>, replace = true) => {
    const n = new URLSearchParams(search);
    for (const [k, v] of Object.entries(patch)) (v == null || v === '' ? n.delete(k) : n.set(k, v));
    const qs = n.toString().replace(/%2C/g, ',');
    navigate(`/compare/${platform}${qs ? '?' + qs : ''}`, { replace });
  };
  const setIds = (next: number[]) => setParams({ ids: next.join(',') }, false);

  const cmp = useAsync(
    (signal) => (ids.length ? compareProfiles(platform, ids, range, signal) : Promise.resolve([])),
    [platform, idsKey, range.from, range.to],
  );
  const series = useAsync(
    (signal) =>
      Promise.all(ids.map((id) => getTimeseries(platform, id, { ...range, granularity: g, metrics: metric }, signal))),
    [platform, idsKey, range.from, range.to, g, metric],
  );
  const byId = new Map((cmp.data ?? []).map((c) => [c.profile.id, c]));
  const data = useMemo(() => (series.data ? alignSeries(series.data, metric) : null), [series.data, metric]);
  const labels = ids.map((id) => {
    const p = byId.get(id)?.profile;
    return { label: p ? `@${p.handle}` : `#${id}` };
  });
  const fmt = metric === 'engagement_rate' ? (v: number) => formatPercent(v) : formatCount;
  const metricLabel = METRICS.find((m) => m.value === metric)!.label;

  return (
    <section class="page" aria-labelledby="compare-h">
      <div class="page-head">
        <h1 id="compare-h" tabIndex={-1}>
          Compare creators
        </h1>
        <nav aria-label="Platform" class="tabs">
          {PLATFORMS.map((p) => (
            <a key={p} href={`/compare/${p}`} aria-current={p === platform ? 'page' : undefined} class="tab">
              {PLATFORM_LABEL[p]}
            </a>
          ))}
        </nav>
      </div>
      <p class="muted">Up to {MAX} {PLATFORM_LABEL[platform]} profiles on one chart. Comparing does not count as profile views.</p>

      <Picker platform={platform} ids={ids} onAdd={(id) => ids.length < MAX && !ids.includes(id) && setIds([...ids, id])} />

      {ids.length > 0 && (
        <ul class="chips" aria-label="Compared profiles" data-testid="compare-chips">
          {ids.map((id, i) => {
            const p = byId.get(id)?.profile;
            const name = p ? `@${p.handle}` : `#${id}`;
            return (
              <li key={id} class="chip">
                <span class="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
                <a href={`/p/${platform}/${id}`}>{name}</a>
                <button type="button" class="chip-x" aria-label={`Remove ${name} from comparison`} onClick={() => setIds(ids.filter((x) => x !== id))}>
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      )}

      {ids.length === 0 ? (
        <div class="empty" data-testid="empty">
          <p>
            <strong>Nothing to compare yet.</strong>
          </p>
          <p class="muted">
            Search above, or select creators in <a href={`/discover/${platform}`}>Discover</a> and choose “Compare selected”.
          </p>
        </div>
      ) : (
        <>
          <form class="range" onSubmit={(e) => e.preventDefault()} aria-label="Chart options">
            <SelectField id="c-metric" label="Metric" value={metric} choices={METRICS} onChange={(v) => setParams({ metric: v })} testId="compare-metric" />
            <SelectField id="c-g" label="Granularity" value={g} choices={GRANULARITY_CHOICES} onChange={(v) => setParams({ g: v })} />
            <div class="field">
              <label for="c-from">From</label>
              <input id="c-from" type="date" value={range.from} max={range.to} onChange={(e) => setParams({ from: (e.target as HTMLInputElement).value })} />
            </div>
            <div class="field">
              <label for="c-to">To</label>
              <input id="c-to" type="date" value={range.to} min={range.from} max={today} onChange={(e) => setParams({ to: (e.target as HTMLInputElement).value })} />
            </div>
          </form>

          {series.error ? (
            <ErrorState error={series.error} onRetry={series.reload} what="the chart" />
          ) : data && cmp.data ? (
            <Chart title={`${metricLabel} — ${labels.map((l) => l.label).join(', ')}`} metric={metric} data={data} series={labels} format={fmt} testid="chart" height={300} />
          ) : (
            <ChartSkeleton title={metricLabel} height={300} />
          )}

          {cmp.error && <ErrorState error={cmp.error} onRetry={cmp.reload} what="the comparison" />}
          <div class="table-wrap">
            <table class="data" data-testid="compare-table">
              <caption class="sr-only">
                Growth from {range.from} to {range.to}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Creator</th>
                  <th scope="col" class="num">
                    Followers
                  </th>
                  <th scope="col" class="num">
                    Change
                  </th>
                  <th scope="col" class="num hide-sm">
                    Engagement
                  </th>
                  <th scope="col" class="num hide-sm">
                    ER change
                  </th>
                </tr>
              </thead>
              <tbody>
                {!cmp.data && cmp.status === 'loading' && <SkeletonRows rows={ids.length} cols={5} />}
                {cmp.data?.map((c) => (
                  <tr key={c.profile.id} data-testid="compare-row">
                    <td>
                      <div class="creator">
                        <Avatar name={c.profile.name} handle={c.profile.handle} url={c.profile.picture_url} size={28} />
                        <a href={`/p/${platform}/${c.profile.id}`}>{c.profile.name}</a>
                      </div>
                    </td>
                    <td class="num">{formatCount(c.profile.followers)}</td>
                    <td class="num">{c.growth ? <GrowthBadge absolute={c.growth.followers_change} percent={c.growth.followers_change_pct ?? null} /> : <span class="muted">no data</span>}</td>
                    <td class="num hide-sm">{formatPercent(c.profile.engagement_rate)}</td>
                    <td class="num hide-sm">
                      {c.growth ? <GrowthBadge absolute={c.growth.engagement_rate_change} format={(n) => (n > 0 ? '+' : '') + n.toFixed(2) + ' pts'} /> : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** Finds creators by text (the search endpoint, which does not count profile views). */
function Picker({ platform, ids, onAdd }: { platform: Platform; ids: number[]; onAdd: (id: number) => void }) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<ProfileDto[] | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const r = await searchProfiles(platform, { ...DEFAULT_STATE, text: text.trim(), size: 8 });
      setResults(r.items);
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="picker">
      <form class="inline-form" onSubmit={submit} role="search" aria-label="Find creators to compare">
        <label for="pick">Add a creator</label>
        <input id="pick" type="search" value={text} placeholder="Name or handle" onInput={(e) => setText((e.target as HTMLInputElement).value)} data-testid="compare-search" />
        <button type="submit" class="btn" disabled={busy}>
          {busy ? 'Searching…' : 'Find'}
        </button>
      </form>
      <InlineError error={err} />
      {results && (
        <ul class="pick-results" aria-label="Matching creators" data-testid="compare-results">
          {results.length === 0 && <li class="muted">No match.</li>}
          {results.map((p) => (
            <li key={p.id}>
              <Avatar name={p.name} handle={p.handle} url={p.picture_url} size={24} />
              <span>
                {p.name} <span class="muted">@{p.handle} · {formatCount(p.followers)}</span>
              </span>
              <button type="button" class="btn btn-small" disabled={ids.includes(p.id) || ids.length >= MAX} onClick={() => onAdd(p.id)} aria-label={`Add ${p.name} to comparison`}>
                {ids.includes(p.id) ? 'Added' : 'Add'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
