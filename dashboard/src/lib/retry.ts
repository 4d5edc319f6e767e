/**
 * Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns whole seconds ≥ 0, or null when absent/garbled.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Number(v);
  // an HTTP-date has a weekday and month name; Date.parse alone would read "-5" as a year
  if (!/[a-z]/i.test(v)) return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.ceil((t - nowMs) / 1000));
}

/**
 * The RateLimit header (draft-ietf-httpapi-ratelimit-headers): `"partner";r=48;t=1, "client";r=18;t=1`.
 * Returns the items with their remaining quota r and reset t (seconds).
 */
export function parseRateLimit(value: string | null | undefined): Array<{ name: string; r: number | null; t: number | null }> {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [rawName, ...params] = part.split(';').map((x) => x.trim());
      const kv = Object.fromEntries(
        params.map((p) => {
          const [k, val] = p.split('=');
          return [k, val];
        }),
      );
      const num = (x: string | undefined) => (x != null && /^\d+$/.test(x) ? Number(x) : null);
      return { name: rawName.replace(/^"|"$/g, ''), r: num(kv.r), t: num(kv.t) };
    });
}

/** "try again in 1 s", "in 2 min 5 s". */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return r ? `${m} min ${r} s` : `${m} min`;
}
