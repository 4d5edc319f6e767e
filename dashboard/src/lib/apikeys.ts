/** API keys as people read them: scopes, statuses, the expiry field, the create request. Pure, no DOM. */
import type { ApiKeyScope, ApiKeyStatus, NewApiKey, RevocationOutcome } from '../api/types';
import { isoDate, parseIsoDate } from './dates';
import { formatDateTime } from './format';

/** The API's name limit: 1 to 100 characters (Unicode scalar values, after trimming). */
export const MAX_KEY_NAME = 100;

/** Scopes for the create form, in the order offered (read only first: the safer default). */
export const SCOPE_CHOICES: ReadonlyArray<{ value: ApiKeyScope; label: string }> = [
  { value: 'read', label: 'Read only' },
  { value: 'read_write', label: 'Read and write' },
];

export function scopeLabel(scope: string): string {
  return SCOPE_CHOICES.find((c) => c.value === scope)?.label ?? scope;
}

const STATUS_LABELS: Record<ApiKeyStatus, string> = { active: 'Active', expired: 'Expired', revoked: 'Revoked' };

export function statusLabel(status: string): string {
  return STATUS_LABELS[status as ApiKeyStatus] ?? status;
}

/** A timestamp for the table, or "never" when there is none (never used, never expires). */
export function formatOrNever(iso: string | null | undefined): string {
  return iso ? formatDateTime(iso) : 'never';
}

/** The last instant of a calendar day (YYYY-MM-DD, from `<input type="date">`) in UTC, as ISO; null if not a date. */
export function endOfDayUtc(date: string): string | null {
  const d = parseIsoDate(date);
  return d ? `${isoDate(d)}T23:59:59Z` : null;
}

/** The earliest day the expiry field offers: today in UTC (its end is still in the future). */
export function minExpiryDate(now: Date): string {
  return isoDate(now);
}

/**
 * The create request from the form's fields, or what to fix. An empty expiry means "never" (omitted);
 * a day means the end of that day in UTC, which must still be in the future.
 */
export function buildNewKey(
  name: string,
  scope: string,
  expiry: string,
  now: Date,
): { ok: true; body: NewApiKey } | { ok: false; error: string } {
  const n = name.trim();
  if (!n) return { ok: false, error: 'Give the key a name, e.g. the system that will use it.' };
  if ([...n].length > MAX_KEY_NAME) return { ok: false, error: `The name can be at most ${MAX_KEY_NAME} characters.` };
  if (scope !== 'read' && scope !== 'read_write') return { ok: false, error: 'Choose what the key may do.' };
  const body: NewApiKey = { name: n, scope };
  const e = expiry.trim();
  if (e) {
    const iso = endOfDayUtc(e);
    if (!iso) return { ok: false, error: 'The expiry date is not a valid date.' };
    if (Date.parse(iso) <= now.getTime()) return { ok: false, error: 'The expiry date must be today or later.' };
    body.expires_at = iso;
  }
  return { ok: true, body };
}

/** What to tell after a revocation: nothing when every gateway knows (204), a note when they learn shortly (202). */
export function revocationNote(name: string, outcome: RevocationOutcome): string | null {
  return outcome.propagated
    ? null
    : `“${name}” is revoked. Some gateways may still accept it for a few seconds until they all learn of it.`;
}
