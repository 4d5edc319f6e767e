import { getLeaderboard } from '../api/client';
import { CATEGORIES, LEADERBOARD_METRICS, PLATFORMS, type Platform } from '../api/types';
import { Avatar } from '../components/Avatar';
import { ErrorState } from '../components/ErrorState';
import { GrowthBadge } from '../components/Growth';
import { type Choice, SelectField } from '../components/SelectField';
import { Loading, SkeletonRows } from '../components/Skeleton';
import { useAsync, useTitle } from '../hooks';
import { isoDate, monthOf, normalizeMonth, shiftMonth } from '../lib/dates';
import { formatCount, formatMonth, formatPercent, formatSignedCount } from '../lib/format';
import { movementLabel, movementText, rankMovement, ranksById } from '../lib/rank';
import { navigate, useLocation } from '../router';
import { PLATFORM_LABEL } from './Discover';

const CATEGORY_CHOICES: readonly Choice[] = [{ value: '', label: 'All categories' }, ...CATEGORIES.map((c) => ({ value: c, label: c }))];

const LIMIT = 50;

export function LeaderboardsPage({ platform }: { platform: Platform }) {
  const { search } = useLocation();
  const q = new URLSearchParams(search);
  const thisMonth = monthOf(isoDate(new Date()));
  const month = normalizeMonth(q.get('month')) ?? shiftMonth(thisMonth, -1);
  const metric = LEADERBOARD_METRICS.some((m) => m.value === q.get('metric')) ? q.get('metric')! : 'followers';
  const category = (q.get('category') ?? '').toLowerCase();
  useTitle(`${PLATFORM_LABEL[platform]} leaderboard, ${formatMonth(month)}`);

  const set = (patch: Record<string, string>) => {
    const n = new URLSearchParams(search);
    for (const [k, v] of Object.entries(patch)) (v ? n.set(k, v) : n.delete(k));
    navigate(`/leaderboards/${platform}?${n}`);
  };

  const res = useAsync(
    async (signal) => {
      const base = { metric, category: category || undefined };
      // The API gives ranks for one month; movement compares with the previous month's list (a wider one, so
      // "new" means not in last month's top 100). A failing previous month only hides the movement.
      const [cur, prev] = await Promise.all([
        getLeaderboard(platform, { ...base, month, limit: LIMIT }, signal),
        getLeaderboard(platform, { ...base, month: shiftMonth(month, -1), limit: 100 }, signal).catch(() => null),
      ]);
      return { cur, prev: prev ? ranksById(prev.entries) : null };
    },
    [platform, month, metric, category],
  );

  const fmtValue = (v: number) =>
    metric === 'engagement_rate' ? formatPercent(v) : metric === 'follower_growth' ? formatSignedCount(v) : formatCount(v);
  const metricLabel = LEADERBOARD_METRICS.find((m) => m.value === metric)!.label;
  const data = res.data;

  return (
    <section class="page" aria-labelledby="lb-h">
      <div class="page-head">
        <h1 id="lb-h" tabIndex={-1}>
          Leaderboards
        </h1>
        <nav aria-label="Platform" class="tabs">
          {PLATFORMS.map((p) => (
            <a key={p} href={`/leaderboards/${p}${search}`} aria-current={p === platform ? 'page' : undefined} class="tab">
              {PLATFORM_LABEL[p]}
            </a>
          ))}
        </nav>
      </div>

      <form class="range" onSubmit={(e) => e.preventDefault()} aria-label="Leaderboard options">
        <div class="field">
          <label for="lb-month">Month</label>
          <input id="lb-month" type="month" value={month} max={thisMonth} onChange={(e) => { const v = normalizeMonth((e.target as HTMLInputElement).value); if (v) set({ month: v }); }} data-testid="lb-month" />
        </div>
        <SelectField id="lb-metric" label="Ranked by" value={metric} choices={LEADERBOARD_METRICS} onChange={(v) => set({ metric: v })} testId="lb-metric" />
        <SelectField id="lb-cat" label="Category" value={category} choices={CATEGORY_CHOICES} onChange={(v) => set({ category: v })} testId="lb-category" />
        <div class="field field-buttons">
          <span class="label-spacer" aria-hidden="true">&nbsp;</span>
          <div>
            <button type="button" class="btn" onClick={() => set({ month: shiftMonth(month, -1) })} aria-label="Previous month">
              ←
            </button>{' '}
            <button type="button" class="btn" onClick={() => set({ month: shiftMonth(month, 1) })} disabled={month >= thisMonth} aria-label="Next month">
              →
            </button>
          </div>
        </div>
      </form>

      {res.error && <ErrorState error={res.error} onRetry={res.reload} what="the leaderboard" />}
      <div class="table-wrap" aria-busy={res.status === 'loading'}>
        {res.status === 'loading' && <Loading label="Loading leaderboard" />}
        <table class="data" data-testid="leaderboard">
          <caption>
            Top {PLATFORM_LABEL[platform]} creators by {metricLabel.toLowerCase()}, {formatMonth(month)}
            {category ? ` — ${category}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col" class="num">
                Rank
              </th>
              <th scope="col">
                <abbr title="Rank change since the previous month">Move</abbr>
              </th>
              <th scope="col">Creator</th>
              <th scope="col" class="num">
                {metricLabel}
              </th>
              <th scope="col" class="num hide-sm">
                Followers
              </th>
              <th scope="col" class="num hide-sm">
                Growth
              </th>
              <th scope="col" class="hide-sm">
                Category
              </th>
            </tr>
          </thead>
          <tbody>
            {!data && res.status === 'loading' && <SkeletonRows rows={10} cols={7} />}
            {data?.cur.entries.map((e) => {
              const mv = rankMovement(e.profile.id, e.rank, data.prev);
              return (
                <tr key={e.profile.id} data-testid="lb-row">
                  <td class="num rank">{e.rank}</td>
                  <td>
                    <span class={`move move-${mv.kind}`} data-testid="movement" data-kind={mv.kind}>
                      <span aria-hidden="true">{movementLabel(mv)}</span>
                      <span class="sr-only">{movementText(mv)}</span>
                    </span>
                  </td>
                  <td>
                    <div class="creator">
                      <Avatar name={e.profile.name} handle={e.profile.handle} url={e.profile.picture_url} size={28} />
                      <div class="creator-text">
                        <a href={`/p/${platform}/${e.profile.id}`}>{e.profile.name}</a>
                        <span class="muted small">@{e.profile.handle}</span>
                      </div>
                    </div>
                  </td>
                  <td class="num">{fmtValue(e.value)}</td>
                  <td class="num hide-sm">{formatCount(e.followers_end)}</td>
                  <td class="num hide-sm">
                    <GrowthBadge absolute={e.follower_growth} percent={e.follower_growth_pct ?? null} />
                  </td>
                  <td class="hide-sm">{e.category}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {data && data.cur.entries.length === 0 && (
          <div class="empty" data-testid="empty">
            <p>
              <strong>No rankings for {formatMonth(month)}.</strong>
            </p>
            <p class="muted">Monthly aggregates may not exist for this month or category yet.</p>
          </div>
        )}
      </div>
    </section>
  );
}
