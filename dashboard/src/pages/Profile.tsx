import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, getGrowth, getProfile, getTimeseries, refreshProfile } from '../api/client';
import { type Granularity, isPremium, type Platform, type ProfileDto } from '../api/types';
import { refreshUsage } from '../auth';
import { GRANULARITY_CHOICES, SelectField } from '../components/SelectField';
import { AddToCollection } from '../components/AddToCollection';
import { Avatar } from '../components/Avatar';
import { Chart, ChartSkeleton } from '../components/Chart';
import { ErrorState } from '../components/ErrorState';
import { GrowthBadge } from '../components/Growth';
import { Locked } from '../components/Locked';
import { Skeleton } from '../components/Skeleton';
import { UsageMeter } from '../components/UsageMeter';
import { useAsync, useCountdown, useTitle } from '../hooks';
import { isoDate, normalizeRange } from '../lib/dates';
import { formatCount, formatDateTime, formatInteger, formatPercent } from '../lib/format';
import { formatWait } from '../lib/retry';
import { toColumns } from '../lib/series';
import { navigate, useLocation } from '../router';
import { usage, useStore } from '../store';
import { PLATFORM_LABEL } from './Discover';

const GRANULARITIES: Granularity[] = ['day', 'week', 'month'];

export function ProfilePage({ platform, id }: { platform: Platform; id: number }) {
  const res = useAsync((signal) => getProfile(platform, id, signal), [platform, id]);
  const p = res.data;
  useTitle(p ? `${p.name} (@${p.handle})` : 'Profile');
  // Opening a profile counts a view: refresh the quota meter after each answer (success or 402).
  useEffect(() => {
    if (res.status !== 'loading') refreshUsage();
  }, [res.status]);

  if (res.error && !p) {
    return (
      <section class="page">
        <h1 tabIndex={-1}>{res.error.status === 402 ? 'Profile view quota reached' : 'Profile'}</h1>
        <ErrorState error={res.error} onRetry={res.reload} what="this profile" />
        {res.error.status === 402 && (
          <div class="quota-box">
            <UsageMeter />
          </div>
        )}
      </section>
    );
  }
  return (
    <section class="page" aria-busy={!p}>
      {p ? <ProfileHeader p={p} onRefreshed={(np) => res.setData(np)} /> : <HeaderSkeleton />}
      {p && <Analytics platform={platform} id={id} />}
    </section>
  );
}

function HeaderSkeleton() {
  return (
    <div class="profile-head" aria-hidden="true">
      <Skeleton height={72} width={72} class="round" />
      <div style={{ flex: 1 }}>
        <Skeleton height={28} width="40%" />
        <div style={{ height: 8 }} />
        <Skeleton height={16} width="25%" />
        <div style={{ height: 24 }} />
        <Skeleton height={64} />
      </div>
    </div>
  );
}

function Fact({ label, value, title }: { label: string; value: preact.ComponentChildren; title?: string }) {
  return (
    <div class="fact">
      <dt>{label}</dt>
      <dd title={title}>{value}</dd>
    </div>
  );
}

function ProfileHeader({ p, onRefreshed }: { p: ProfileDto; onRefreshed: (p: ProfileDto) => void }) {
  const u = useStore(usage);
  const plan = u?.plan ?? null;
  const premium = isPremium(plan);
  const premiumValue = (v: unknown, render: (v: NonNullable<unknown>) => preact.ComponentChildren) =>
    !premium && u ? <Locked plan={plan} /> : v == null || v === '' ? <span class="muted">Not provided</span> : render(v);

  return (
    <>
      <div class="profile-head">
        <Avatar name={p.name} handle={p.handle} url={p.picture_url} size={72} />
        <div class="profile-title">
          <h1 tabIndex={-1} data-testid="profile-name">
            {p.name}
          </h1>
          <p class="muted">
            @{p.handle} · {PLATFORM_LABEL[p.platform]}
            {p.is_verified && <span class="verified"> · ✓ Verified</span>}
          </p>
          {p.bio && <p class="bio">{p.bio}</p>}
        </div>
        <div class="profile-actions">
          <RefreshNow p={p} onRefreshed={onRefreshed} />
          <a class="btn" href={`/compare/${p.platform}?ids=${p.id}`} data-testid="compare-link">
            Compare…
          </a>
        </div>
      </div>

      <dl class="facts" data-testid="facts">
        <Fact label={p.platform === 'youtube' ? 'Subscribers' : 'Followers'} value={<span data-testid="fact-followers">{formatCount(p.followers)}</span>} title={formatInteger(p.followers)} />
        <Fact label="Posts" value={formatInteger(p.posts)} />
        <Fact label="Engagement rate" value={formatPercent(p.engagement_rate)} />
        <Fact label="Avg likes" value={formatCount(p.avg_likes)} />
        <Fact label="Avg comments" value={formatCount(p.avg_comments)} />
        <Fact label="Avg views" value={formatCount(p.avg_views)} />
        <Fact label="Category" value={p.category ?? '—'} />
        <Fact label="Country" value={p.country ?? '—'} />
        <Fact label="Language" value={p.language ?? '—'} />
        <Fact label="Last scraped" value={<span data-testid="last-scraped">{formatDateTime(p.last_scraped_at)}</span>} />
      </dl>

      <section class="card" aria-labelledby="premium-h" data-testid="premium" data-premium={premium ? 'unlocked' : 'locked'}>
        <h2 id="premium-h">Contact &amp; audience</h2>
        <dl class="facts facts-2">
          <Fact label="Email" value={<span data-testid="premium-email">{premiumValue(p.email, (v) => <a href={`mailto:${v}`}>{String(v)}</a>)}</span>} />
          <Fact label="Phone" value={<span data-testid="premium-phone">{premiumValue(p.phone, (v) => String(v))}</span>} />
          <Fact label="Contact" value={premiumValue(p.contact, (v) => <KeyValues obj={v as Record<string, unknown>} />)} />
          <Fact label="Audience" value={<span data-testid="premium-audience">{premiumValue(p.audience_demographics, (v) => <Demographics d={v as Record<string, unknown>} />)}</span>} />
        </dl>
        {!premium && u && <UsageMeter />}
      </section>

      <div class="card">
        <AddToCollection platform={p.platform} ids={[p.id]} idPrefix="profile" />
      </div>
    </>
  );
}

function KeyValues({ obj }: { obj: Record<string, unknown> }) {
  const entries = Object.entries(obj);
  if (!entries.length) return <span class="muted">Not provided</span>;
  return (
    <span>
      {entries.map(([k, v], i) => (
        <span key={k}>
          {i > 0 && ' · '}
          {k}: {typeof v === 'object' ? JSON.stringify(v) : String(v)}
        </span>
      ))}
    </span>
  );
}

function Demographics({ d }: { d: Record<string, unknown> }) {
  return (
    <span class="demo">
      {Object.entries(d).map(([group, vals]) => (
        <span key={group} class="demo-group">
          <strong>{group}</strong>{' '}
          {vals && typeof vals === 'object'
            ? Object.entries(vals as Record<string, unknown>)
                .map(([k, v]) => `${k} ${v}%`)
                .join(', ')
            : String(vals)}
        </span>
      ))}
    </span>
  );
}

/** Asks beat for a forced refresh and reports its answer honestly (429 → wait time from Retry-After). */
function RefreshNow({ p, onRefreshed }: { p: ProfileDto; onRefreshed: (p: ProfileDto) => void }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const [until, setUntil] = useState<number | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const wait = useCountdown(until);

  const click = async () => {
    setBusy(true);
    setErr(null);
    try {
      const s = await refreshProfile(p.platform, p.handle);
      const when = s.last_scraped_at ?? s.updated_at;
      setDone(when);
      setUntil(null);
      onRefreshed({
        ...p,
        name: s.name || p.name,
        bio: s.bio ?? p.bio,
        followers: s.followers,
        posts: s.content_count ?? p.posts,
        engagement_rate: s.engagement_rate,
        avg_likes: s.avg_likes,
        avg_comments: s.avg_comments,
        avg_views: s.avg_views,
        is_verified: s.verified,
        last_scraped_at: s.last_scraped_at ?? p.last_scraped_at,
        updated_at: s.updated_at,
      });
    } catch (e) {
      const a = e as ApiError;
      setErr(a);
      setDone(null);
      setUntil(a.retryAfter != null ? Date.now() + a.retryAfter * 1000 : null);
    } finally {
      setBusy(false);
    }
  };

  let status: preact.ComponentChildren = null;
  let kind = '';
  if (busy) status = 'Refreshing…';
  else if (err) {
    kind = String(err.status);
    if (err.status === 429)
      status =
        err.retryAfter != null
          ? `Refresh limit reached for @${p.handle} — try again in ${formatWait(Math.max(wait, 0))}${wait === 0 ? ' (you can retry now)' : ''}.`
          : 'Refresh limit reached — try again shortly.';
    else if (err.kind === 'network') status = 'Could not reach bulbul. Check your connection and retry.';
    else if (err.status >= 500)
      status = `Refresh failed: ${err.detail} (HTTP ${err.status})${err.retryAfter != null && wait > 0 ? ` — try again in ${formatWait(wait)}` : ''}. You can retry.`;
    else status = `Refresh failed: ${err.detail} (HTTP ${err.status}).`;
  } else if (done) {
    kind = 'ok';
    status = `Updated ${formatDateTime(done)}.`;
  }
  return (
    <div class="refresh">
      <button type="button" class="btn btn-primary" onClick={click} disabled={busy} aria-describedby="refresh-status" data-testid="refresh-now">
        {busy ? 'Refreshing…' : err && err.status >= 500 ? 'Retry refresh' : 'Refresh now'}
      </button>
      <p id="refresh-status" class={`refresh-status ${err ? 'inline-error' : ''}`} role="status" data-testid="refresh-status" data-kind={kind}>
        {status}
      </p>
    </div>
  );
}

function Analytics({ platform, id }: { platform: Platform; id: number }) {
  const { search } = useLocation();
  const q = new URLSearchParams(search);
  const today = isoDate(new Date());
  const g = (GRANULARITIES as string[]).includes(q.get('g') ?? '') ? (q.get('g') as Granularity) : 'day';
  const range = normalizeRange(q.get('from'), q.get('to'), today, 90);
  const setParam = (patch: Record<string, string>) => {
    const n = new URLSearchParams(search);
    for (const [k, v] of Object.entries(patch)) n.set(k, v);
    navigate(`/p/${platform}/${id}?${n}`, { replace: true });
  };
  const ts = useAsync(
    (signal) => getTimeseries(platform, id, { ...range, granularity: g, metrics: 'followers,engagement_rate' }, signal),
    [platform, id, range.from, range.to, g],
  );
  const growth = useAsync((signal) => getGrowth(platform, id, range, signal), [platform, id, range.from, range.to]);
  const followers = useMemo(() => (ts.data ? toColumns(ts.data, ['followers']) : null), [ts.data]);
  const er = useMemo(() => (ts.data ? toColumns(ts.data, ['engagement_rate']) : null), [ts.data]);
  const gr = growth.data;

  return (
    <section class="analytics" aria-labelledby="analytics-h" data-testid="analytics" data-from={range.from} data-to={range.to} data-granularity={g}>
      <div class="section-head">
        <h2 id="analytics-h">Growth</h2>
        <form class="range" onSubmit={(e) => e.preventDefault()} aria-label="Date range and granularity">
          <SelectField id="g" label="Granularity" value={g} choices={GRANULARITY_CHOICES} onChange={(v) => setParam({ g: v })} testId="granularity" />
          <div class="field">
            <label for="from">From</label>
            <input id="from" type="date" value={range.from} max={range.to} onChange={(e) => (e.target as HTMLInputElement).value && setParam({ from: (e.target as HTMLInputElement).value })} data-testid="range-from" />
          </div>
          <div class="field">
            <label for="to">To</label>
            <input id="to" type="date" value={range.to} min={range.from} max={today} onChange={(e) => (e.target as HTMLInputElement).value && setParam({ to: (e.target as HTMLInputElement).value })} data-testid="range-to" />
          </div>
        </form>
      </div>

      <div class="stats" data-testid="growth-stats">
        <div class="stat">
          <span class="stat-label">Follower change</span>
          {gr ? <GrowthBadge absolute={gr.followers_change} percent={gr.followers_change_pct ?? null} /> : growth.error ? <span class="muted">—</span> : <Skeleton height={20} width="8em" />}
          {gr && (
            <span class="muted small">
              {formatCount(gr.followers_start)} → {formatCount(gr.followers_end)} ({gr.first_date} – {gr.last_date})
            </span>
          )}
        </div>
        <div class="stat">
          <span class="stat-label">Engagement change</span>
          {gr ? (
            <GrowthBadge absolute={gr.engagement_rate_change} format={(n) => (n > 0 ? '+' : '') + n.toFixed(2) + ' pts'} />
          ) : growth.error ? (
            <span class="muted">—</span>
          ) : (
            <Skeleton height={20} width="8em" />
          )}
          {gr && (
            <span class="muted small">
              {formatPercent(gr.engagement_rate_start)} → {formatPercent(gr.engagement_rate_end)}
            </span>
          )}
        </div>
      </div>
      {growth.error && growth.error.status !== 404 && <ErrorState error={growth.error} onRetry={growth.reload} what="growth" />}

      {ts.error ? (
        <ErrorState error={ts.error} onRetry={ts.reload} what="the charts" />
      ) : (
        <div class="charts" aria-busy={ts.status === 'loading'}>
          {followers ? <Chart title="Followers" metric="followers" data={followers} series={[{ label: 'Followers' }]} format={formatCount} /> : <ChartSkeleton title="Followers" />}
          {er ? <Chart title="Engagement rate" metric="engagement_rate" data={er} series={[{ label: 'Engagement rate' }]} format={(v) => formatPercent(v)} /> : <ChartSkeleton title="Engagement rate" />}
        </div>
      )}
    </section>
  );
}
