import { usage } from '../store';
import { useStore } from '../store';

/** The monthly profile-view quota (GET /coffee/usage). */
export function UsageMeter({ compact = false }: { compact?: boolean }) {
  const u = useStore(usage);
  if (!u) return <span class="usage usage-empty" aria-hidden="true" />;
  const quota = u.profile_quota ?? null;
  if (quota == null) {
    return (
      <span class="usage" data-testid="usage-meter" data-plan={u.plan} data-quota="unlimited">
        <span class="plan-badge">{u.plan}</span>
        {!compact && <span class="muted"> {u.unique_profiles} profiles viewed this month · unlimited</span>}
      </span>
    );
  }
  const used = Math.min(u.unique_profiles, quota);
  const remaining = u.profiles_remaining ?? Math.max(0, quota - u.unique_profiles);
  const label = `${u.unique_profiles} of ${quota} profile views used this month (${u.plan} plan)`;
  return (
    <span class="usage" data-testid="usage-meter" data-plan={u.plan} data-quota={quota} data-used={u.unique_profiles}>
      <span class="plan-badge">{u.plan}</span>
      <span class="usage-label">
        <span class={compact ? 'sr-only' : ''}>Profile views </span>
        <meter min={0} max={quota} low={quota * 0.7} high={quota * 0.9} optimum={0} value={used} aria-label={label} title={label} />
        <span data-testid="usage-count">
          {u.unique_profiles}/{quota}
        </span>
      </span>
      {remaining === 0 && <span class="usage-out">quota reached</span>}
    </span>
  );
}
