import { describe, expect, it } from 'vitest';
import { addDays, epochSeconds, MAX_RANGE_DAYS, monthOf, normalizeMonth, normalizeRange, parseIsoDate, shiftMonth } from './dates';

describe('dates', () => {
  it('parses only real ISO dates', () => {
    expect(parseIsoDate('2026-02-28')).not.toBeNull();
    expect(parseIsoDate('2026-02-30')).toBeNull();
    expect(parseIsoDate('26-1-1')).toBeNull();
    expect(parseIsoDate(null)).toBeNull();
  });
  it('adds days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
  it('normalises ranges: default, swapped, clamped', () => {
    expect(normalizeRange(null, null, '2026-11-25', 90)).toEqual({ from: '2026-08-27', to: '2026-11-25' });
    expect(normalizeRange('2026-11-01', '2026-10-01', '2026-11-25')).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    const r = normalizeRange('2010-01-01', '2026-11-25', '2026-11-25');
    expect(r.to).toBe('2026-11-25');
    expect(r.from).toBe(addDays('2026-11-25', -MAX_RANGE_DAYS));
    expect(normalizeRange('bad', 'worse', '2026-11-25', 30)).toEqual({ from: '2026-10-26', to: '2026-11-25' });
  });
  it('normalises and shifts months', () => {
    expect(normalizeMonth('2026-10-01')).toBe('2026-10');
    expect(normalizeMonth('2026-10')).toBe('2026-10');
    expect(normalizeMonth('2026-13')).toBeNull();
    expect(normalizeMonth('')).toBeNull();
    expect(shiftMonth('2026-01', -1)).toBe('2025-12');
    expect(shiftMonth('2026-12', 1)).toBe('2027-01');
    expect(shiftMonth('2026-05', -17)).toBe('2024-12');
    expect(monthOf('2026-11-25')).toBe('2026-11');
  });
  it('converts dates to epoch seconds in UTC', () => {
    expect(epochSeconds('2026-11-01')).toBe(Date.UTC(2026, 10, 1) / 1000);
    expect(epochSeconds('nope')).toBeNaN();
  });
});
