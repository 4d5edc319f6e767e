/** Number and date formatting for people. Pure functions, no DOM. */

const UNITS: Array<[number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** Rounds half away from zero to one decimal, without toFixed's binary surprises. */
function round1(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x) * 10 + 1e-9) / 10;
}

/**
 * Compact count: 999 → "999", 1000 → "1K", 1250 → "1.3K", 1_200_000 → "1.2M",
 * 999_950 → "1M" (never "1000K"), -1500 → "-1.5K". null/NaN → "—".
 */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  if (abs < 1000) {
    const r = Math.round(abs);
    // 999.6 rounds up into the next unit
    if (r < 1000) return sign + String(r);
  }
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const [unit, suffix] = UNITS[i];
    const next = UNITS[i - 1];
    if (next && abs >= next[0]) continue;
    const v = round1(abs / unit);
    if (v >= 1000 && next) return sign + trim(round1(abs / next[0])) + next[1];
    return sign + trim(v) + suffix;
  }
  return sign + String(Math.round(abs));
}

function trim(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Signed compact count for changes: +12.3K, -1.2K, 0. */
export function formatSignedCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  const s = formatCount(n);
  return n > 0 ? '+' + s : s;
}

/** Full number with thousands separators (for tables and tooltips). */
export function formatInteger(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** A percent value (already in percent units): 4.6266 → "4.63%". */
export function formatPercent(p: number | null | undefined, digits = 2): string {
  if (p == null || !Number.isFinite(p)) return '—';
  return p.toFixed(digits) + '%';
}

/** Signed percent: +0.98%, -12.50%, "0.00%"; "—" for null (undefined growth, e.g. from 0). */
export function formatSignedPercent(p: number | null | undefined, digits = 2): string {
  if (p == null || !Number.isFinite(p)) return '—';
  const r = Math.abs(p).toFixed(digits);
  if (Number(r) === 0) return r + '%';
  return (p > 0 ? '+' : '-') + r + '%';
}

/** Initials for an avatar placeholder: "Deepi Kara" → "DK", "nasa" → "NA". */
export function initials(name: string | null | undefined, handle?: string): string {
  const src = (name ?? '').replace(/\(.*?\)/g, '').trim() || (handle ?? '').trim();
  if (!src) return '?';
  const words = src.split(/[\s._-]+/).filter(Boolean);
  if (words.length >= 2) return (words[0][0] + words[1][0]).toUpperCase();
  return src.slice(0, 2).toUpperCase();
}

/** "2026-11-25T09:50:32Z" → "25 Nov 2026, 09:50" in the viewer's locale/timezone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "2026-10-01" or "2026-10" → "October 2026". */
export function formatMonth(month: string): string {
  const m = /^(\d{4})-(\d{2})/.exec(month);
  if (!m) return month;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return d.toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}
