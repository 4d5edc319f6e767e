/** Calendar helpers on ISO dates (YYYY-MM-DD), in UTC so nothing shifts by a day. */

export const DAY_MS = 86_400_000;

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function parseIsoDate(s: string | null | undefined): Date | null {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
  const d = new Date(s + 'T00:00:00Z');
  return Number.isNaN(d.getTime()) || isoDate(d) !== s ? null : d;
}

export function addDays(s: string, days: number): string {
  const d = parseIsoDate(s);
  if (!d) throw new Error(`not a date: ${s}`);
  return isoDate(new Date(d.getTime() + days * DAY_MS));
}

/** The API refuses ranges longer than this many days. */
export const MAX_RANGE_DAYS = 1098;

/** A valid [from, to] range: defaults to the last `days` days, swaps reversed input, clamps to the API's maximum. */
export function normalizeRange(
  from: string | null | undefined,
  to: string | null | undefined,
  today: string,
  days = 90,
): { from: string; to: string } {
  let t = parseIsoDate(to) ? (to as string) : today;
  let f = parseIsoDate(from) ? (from as string) : addDays(t, -days);
  if (f > t) [f, t] = [t, f];
  const span = (parseIsoDate(t)!.getTime() - parseIsoDate(f)!.getTime()) / DAY_MS;
  if (span > MAX_RANGE_DAYS) f = addDays(t, -MAX_RANGE_DAYS);
  return { from: f, to: t };
}

/** "2026-10-01" | "2026-10" → "2026-10"; anything else → null. */
export function normalizeMonth(s: string | null | undefined): string | null {
  const m = /^(\d{4})-(\d{2})(?:-\d{2})?$/.exec(s ?? '');
  if (!m) return null;
  const mm = Number(m[2]);
  return mm >= 1 && mm <= 12 ? `${m[1]}-${m[2]}` : null;
}

/** Shifts a "YYYY-MM" month: ("2026-01", -1) → "2025-12". */
export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number);
  const idx = y * 12 + (m - 1) + by;
  const ny = Math.floor(idx / 12);
  const nm = idx - ny * 12 + 1;
  return `${ny}-${String(nm).padStart(2, '0')}`;
}

/** The month of an ISO date: "2026-11-25" → "2026-11". */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}

/** Epoch seconds of an ISO date at 00:00 UTC (uPlot's x unit). */
export function epochSeconds(date: string): number {
  const d = parseIsoDate(date.slice(0, 10));
  return d ? d.getTime() / 1000 : NaN;
}
