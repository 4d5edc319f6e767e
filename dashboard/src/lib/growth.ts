/** Growth between two values. */
export interface Change {
  absolute: number;
  /** percent; null when the start is 0 (division by zero is undefined, not infinite) */
  percent: number | null;
}

export function growthPct(start: number, end: number): number | null {
  if (!Number.isFinite(start) || !Number.isFinite(end) || start === 0) return null;
  return ((end - start) / Math.abs(start)) * 100;
}

export function change(start: number, end: number): Change {
  return { absolute: end - start, percent: growthPct(start, end) };
}

/** Growth over a series: first and last non-null values. null when fewer than one point. */
export function seriesChange(values: Array<number | null | undefined>): Change | null {
  let first: number | null = null;
  let last: number | null = null;
  for (const v of values) {
    if (v == null || !Number.isFinite(v)) continue;
    if (first === null) first = v;
    last = v;
  }
  if (first === null || last === null) return null;
  return change(first, last);
}

/** Direction word for a signed number, for aria labels and colours. */
export function trend(n: number | null | undefined): 'up' | 'down' | 'flat' | 'unknown' {
  if (n == null || !Number.isFinite(n)) return 'unknown';
  return n > 0 ? 'up' : n < 0 ? 'down' : 'flat';
}
