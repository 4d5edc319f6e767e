import { useMemo, useState } from 'preact/hooks';
import { ApiError, compareProfiles, getCollection, removeItem } from '../api/client';
import type { CollectionDetail, ItemDto, Platform, ProfileDto } from '../api/types';
import { Avatar } from '../components/Avatar';
import { collectionsCache } from '../components/AddToCollection';
import { ErrorState, InlineError } from '../components/ErrorState';
import { Skeleton, SkeletonRows } from '../components/Skeleton';
import { useAsync, useTitle } from '../hooks';
import { fileSlug, toCsv, type Column } from '../lib/csv';
import { addDays, isoDate } from '../lib/dates';
import { formatCount, formatInteger, formatPercent } from '../lib/format';
import { chunk, summarize } from '../lib/summary';
import { navigate } from '../router';
import { DeleteButton, RenameForm } from './Collections';
import { PLATFORM_LABEL } from './Discover';

interface Loaded {
  col: CollectionDetail;
  profiles: Map<string, ProfileDto>;
}

const pkey = (platform: string, id: number) => `${platform}:${id}`;

/**
 * The items' profiles come from the compare endpoint (10 ids a call), which returns full profiles without counting
 * profile views — opening each profile would burn a FREE partner's quota.
 */
async function loadProfiles(items: ItemDto[], signal: AbortSignal): Promise<Map<string, ProfileDto>> {
  const to = isoDate(new Date());
  const from = addDays(to, -30);
  const byPlatform = new Map<Platform, number[]>();
  for (const it of items) {
    const ids = byPlatform.get(it.platform) ?? [];
    if (!ids.includes(it.target_id)) ids.push(it.target_id);
    byPlatform.set(it.platform, ids);
  }
  const out = new Map<string, ProfileDto>();
  const jobs: Array<Promise<void>> = [];
  for (const [platform, ids] of byPlatform)
    for (const part of chunk(ids, 10))
      jobs.push(
        compareProfiles(platform, part, { from, to }, signal).then(
          (rows) => rows.forEach((r) => out.set(pkey(platform, r.profile.id), r.profile)),
          (e) => {
            // a deleted profile makes its chunk 404; the others still show
            if (!(e instanceof ApiError) || e.status !== 404) throw e;
          },
        ),
      );
  await Promise.all(jobs);
  return out;
}

const CSV_COLUMNS: Column<{ item: ItemDto; p: ProfileDto | undefined }>[] = [
  { header: 'platform', value: (r) => r.item.platform },
  { header: 'profile_id', value: (r) => r.item.target_id },
  { header: 'handle', value: (r) => r.p?.handle },
  { header: 'name', value: (r) => r.p?.name },
  { header: 'followers', value: (r) => r.p?.followers },
  { header: 'engagement_rate', value: (r) => r.p?.engagement_rate },
  { header: 'avg_likes', value: (r) => (r.p ? Math.round(r.p.avg_likes) : null) },
  { header: 'avg_comments', value: (r) => (r.p ? Math.round(r.p.avg_comments) : null) },
  { header: 'avg_views', value: (r) => (r.p ? Math.round(r.p.avg_views) : null) },
  { header: 'category', value: (r) => r.p?.category },
  { header: 'country', value: (r) => r.p?.country },
  { header: 'verified', value: (r) => r.p?.is_verified },
  { header: 'note', value: (r) => r.item.note },
  { header: 'added_at', value: (r) => r.item.created_at },
];

export function CollectionPage({ id }: { id: number }) {
  const res = useAsync(async (signal): Promise<Loaded> => {
    const col = await getCollection(id, signal);
    return { col, profiles: await loadProfiles(col.items, signal) };
  }, [id]);
  const [renaming, setRenaming] = useState(false);
  const [removing, setRemoving] = useState<number | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [announce, setAnnounce] = useState('');
  const data = res.data;
  useTitle(data ? data.col.name : 'Collection');

  const rows = useMemo(
    () => (data ? data.col.items.map((item) => ({ item, p: data.profiles.get(pkey(item.platform, item.target_id)) })) : []),
    [data],
  );
  const summary = useMemo(() => summarize(rows.flatMap((r) => (r.p ? [r.p] : []))), [rows]);

  if (res.error && !data) {
    return (
      <section class="page">
        <h1 tabIndex={-1}>Collection</h1>
        <ErrorState error={res.error} onRetry={res.reload} what="this collection" />
        <p>
          <a href="/collections">← All collections</a>
        </p>
      </section>
    );
  }

  const remove = async (item: ItemDto, label: string) => {
    if (!data) return;
    setRemoving(item.id);
    setErr(null);
    try {
      await removeItem(data.col.id, item.id);
      const items = data.col.items.filter((x) => x.id !== item.id);
      res.setData({ ...data, col: { ...data.col, items, item_count: items.length } });
      collectionsCache.set(null);
      setAnnounce(`Removed ${label}.`);
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setRemoving(null);
    }
  };

  const exportCsv = () => {
    if (!data) return;
    const csv = toCsv(rows, CSV_COLUMNS);
    // a BOM so spreadsheet apps read UTF-8 names correctly
    const blob = new Blob(['\ufeff', csv], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${fileSlug(data.col.name)}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setAnnounce(`Exported ${rows.length} rows.`);
  };

  return (
    <section class="page" aria-busy={!data}>
      <p class="crumbs">
        <a href="/collections">← All collections</a>
      </p>
      <div class="page-head">
        {data ? (
          renaming ? (
            <RenameForm c={data.col} onCancel={() => setRenaming(false)} onDone={(c) => { setRenaming(false); res.setData({ ...data, col: { ...data.col, ...c } }); }} />
          ) : (
            <h1 tabIndex={-1} data-testid="collection-title">
              {data.col.name}
            </h1>
          )
        ) : (
          <h1 tabIndex={-1}>
            <Skeleton height={28} width="12em" />
            <span class="sr-only">Loading collection</span>
          </h1>
        )}
        {data && (
          <div class="head-actions">
            {!renaming && (
              <button type="button" class="btn btn-ghost" onClick={() => setRenaming(true)} data-testid="rename-collection">
                Rename
              </button>
            )}
            <button type="button" class="btn" onClick={exportCsv} disabled={!rows.length} data-testid="export-csv">
              Export CSV
            </button>
            <DeleteButton c={data.col} onDeleted={() => navigate('/collections')} />
          </div>
        )}
      </div>
      {data?.col.description && <p class="muted">{data.col.description}</p>}
      <p class="sr-only" role="status">
        {announce}
      </p>

      <dl class="stats summary" data-testid="collection-summary">
        <SummaryStat label="Profiles" value={data ? String(rows.length) : null} testid="summary-count" />
        <SummaryStat label="Total followers" value={data ? formatCount(summary.totalFollowers) : null} title={formatInteger(summary.totalFollowers)} testid="summary-followers" />
        <SummaryStat label="Median followers" value={data ? formatCount(summary.medianFollowers) : null} />
        <SummaryStat label="Engagement (weighted)" value={data ? formatPercent(summary.weightedEngagement) : null} />
        <SummaryStat label="Avg views (sum)" value={data ? formatCount(summary.totalAvgViews) : null} />
        <SummaryStat
          label="Platforms"
          value={data ? Object.entries(summary.byPlatform).map(([k, v]) => `${PLATFORM_LABEL[k as Platform] ?? k} ${v}`).join(' · ') || '—' : null}
        />
      </dl>

      <InlineError error={err} />
      {res.error && data && <ErrorState error={res.error} onRetry={res.reload} />}
      <div class="table-wrap">
        <table class="data" data-testid="collection-items">
          <caption class="sr-only">Profiles in this collection</caption>
          <thead>
            <tr>
              <th scope="col">Creator</th>
              <th scope="col" class="hide-sm">
                Platform
              </th>
              <th scope="col" class="num">
                Followers
              </th>
              <th scope="col" class="num">
                Engagement
              </th>
              <th scope="col" class="num hide-sm">
                Avg views
              </th>
              <th scope="col" class="hide-sm">
                Category
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {!data && <SkeletonRows rows={5} cols={7} />}
            {rows.map(({ item, p }) => {
              const label = p ? `${p.name} (@${p.handle})` : `${item.platform} profile #${item.target_id}`;
              return (
                <tr key={item.id} data-testid="collection-item" data-profile-id={item.target_id} data-platform={item.platform}>
                  <td>
                    {p ? (
                      <div class="creator">
                        <Avatar name={p.name} handle={p.handle} url={p.picture_url} size={28} />
                        <div class="creator-text">
                          <a href={`/p/${item.platform}/${item.target_id}`}>{p.name}</a>
                          <span class="muted small">@{p.handle}</span>
                        </div>
                      </div>
                    ) : (
                      <span class="muted">Profile #{item.target_id} (unavailable)</span>
                    )}
                  </td>
                  <td class="hide-sm">{PLATFORM_LABEL[item.platform]}</td>
                  <td class="num">{p ? formatCount(p.followers) : '—'}</td>
                  <td class="num">{p ? formatPercent(p.engagement_rate) : '—'}</td>
                  <td class="num hide-sm">{p ? formatCount(p.avg_views) : '—'}</td>
                  <td class="hide-sm">{p?.category ?? '—'}</td>
                  <td class="actions">
                    <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => remove(item, label)} disabled={removing === item.id} data-testid="remove-item">
                      {removing === item.id ? 'Removing…' : 'Remove'}
                      <span class="sr-only"> {label}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {data && rows.length === 0 && (
          <div class="empty" data-testid="empty">
            <p>
              <strong>This collection is empty.</strong>
            </p>
            <p class="muted">
              Add creators from <a href="/discover/instagram">Discover</a> (select rows) or from a profile page.
            </p>
          </div>
        )}
      </div>
    </section>
  );
}

function SummaryStat({ label, value, title, testid }: { label: string; value: string | null; title?: string; testid?: string }) {
  return (
    <div class="stat">
      <dt class="stat-label">{label}</dt>
      <dd class="stat-value" title={title} data-testid={testid}>
        {value ?? <Skeleton height={22} width="5em" />}
      </dd>
    </div>
  );
}
