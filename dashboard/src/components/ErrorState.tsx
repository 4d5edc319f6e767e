import type { ApiError } from '../api/problem';
import { useCountdown } from '../hooks';
import { formatWait } from '../lib/retry';
import { usage, useStore } from '../store';
import { useMemo } from 'preact/hooks';

/** What went wrong, in words, with the right way out: retry, wait, upgrade, or log in. */
export function ErrorState({ error, onRetry, what = 'this' }: { error: ApiError; onRetry?: () => void; what?: string }) {
  const u = useStore(usage);
  const until = useMemo(() => (error.retryAfter != null ? Date.now() + error.retryAfter * 1000 : null), [error]);
  const wait = useCountdown(until);
  const s = error.status;
  let title: string;
  let body: string;
  let retry = !!onRetry;
  if (error.kind === 'network') {
    title = 'You seem to be offline';
    body = `Could not reach bulbul to load ${what}. Check your connection and retry.`;
  } else if (s === 402) {
    const plan = u?.plan ?? 'FREE';
    const quota = u?.profile_quota;
    title = 'Monthly profile quota reached';
    body =
      quota != null
        ? `You are on the ${plan} plan, which includes ${quota} distinct profiles a month, and this month's are used. Profiles you already opened this month stay available.`
        : `You are on the ${plan} plan. ${error.detail}`;
    retry = false;
  } else if (s === 429) {
    title = 'Too many requests';
    body = error.retryAfter != null ? `Try again in ${formatWait(wait)}.` : 'Please wait a moment and retry.';
  } else if (s >= 500) {
    title = s === 503 ? 'bulbul is temporarily unavailable' : 'Something went wrong on our side';
    body = `${error.detail} (HTTP ${s}).${error.retryAfter != null && wait > 0 ? ` Try again in ${formatWait(wait)}.` : ''}`;
  } else if (s === 404) {
    title = 'Not found';
    body = error.detail;
    retry = false;
  } else if (s === 401) {
    title = 'Your session has ended';
    body = error.detail;
    retry = false;
  } else {
    title = error.problem.title;
    body = error.detail;
    retry = retry && s !== 400 && s !== 422;
  }
  return (
    <div class={`error-state ${s === 402 ? 'error-quota' : ''}`} role="alert" data-testid="error-state" data-status={s}>
      <p class="error-title">
        <strong>{title}</strong>
      </p>
      <p>{body}</p>
      {s === 402 && (
        <p data-testid="quota-message" class="muted">
          Upgrade to SAAS or PAID for unlimited profile views.
        </p>
      )}
      {error.requestId && <p class="muted small">Request id: {error.requestId}</p>}
      {retry && onRetry && (
        <button type="button" class="btn" onClick={onRetry} disabled={s === 429 && wait > 0} data-testid="retry">
          Retry{s === 429 && wait > 0 ? ` in ${wait} s` : ''}
        </button>
      )}
    </div>
  );
}

/** A one-line inline error (form submissions). */
export function InlineError({ error }: { error: ApiError | string | null }) {
  if (!error) return null;
  const text =
    typeof error === 'string'
      ? error
      : error.status === 429 && error.retryAfter != null
        ? `Too many requests — try again in ${formatWait(error.retryAfter)}.`
        : error.kind === 'network'
          ? 'Could not reach bulbul. Check your connection.'
          : error.detail;
  return (
    <p class="inline-error" role="alert" data-testid="inline-error">
      {text}
    </p>
  );
}
