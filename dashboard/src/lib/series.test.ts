import { describe, expect, it } from 'vitest';
import { alignSeries, hasPoints, tableRows, toColumns, xToDate } from './series';

const d = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / 1000;

describe('toColumns', () => {
  it('turns rows into sorted uPlot columns', () => {
    const rows = [
      { date: '2026-11-02', followers: 110, engagement_rate: 1.5 },
      { date: '2026-11-01', followers: 100, engagement_rate: 1.2 },
      { date: '2026-11-03', followers: 120 },
    ];
    expect(toColumns(rows, ['followers', 'engagement_rate'])).toEqual([
      [d('2026-11-01'), d('2026-11-02'), d('2026-11-03')],
      [100, 110, 120],
      [1.2, 1.5, null],
    ]);
  });
  it('skips bad dates and keeps the last duplicate', () => {
    const rows = [
      { date: 'nope', followers: 1 },
      { date: '2026-11-01', followers: 5 },
      { date: '2026-11-01', followers: 6 },
    ];
    expect(toColumns(rows, ['followers'])).toEqual([[d('2026-11-01')], [6]]);
  });
  it('handles no rows', () => {
    const c = toColumns([], ['followers']);
    expect(c).toEqual([[], []]);
    expect(hasPoints(c)).toBe(false);
  });
});

describe('alignSeries', () => {
  it('aligns several profiles on the union of dates with nulls for gaps', () => {
    const a = [
      { date: '2026-11-01', followers: 10 },
      { date: '2026-11-03', followers: 30 },
    ];
    const b = [
      { date: '2026-11-02', followers: 200 },
      { date: '2026-11-03', followers: 300 },
    ];
    expect(alignSeries([a, b], 'followers')).toEqual([
      [d('2026-11-01'), d('2026-11-02'), d('2026-11-03')],
      [10, null, 30],
      [null, 200, 300],
    ]);
  });
  it('treats non-numbers as gaps', () => {
    expect(alignSeries([[{ date: '2026-11-01', followers: 'x' as unknown as number }]], 'followers')).toEqual([[d('2026-11-01')], [null]]);
  });
});

describe('tableRows / xToDate / hasPoints', () => {
  it('builds rows for the accessible table', () => {
    expect(tableRows([[d('2026-11-01')], [5], [null]])).toEqual([{ x: d('2026-11-01'), values: [5, null] }]);
    expect(xToDate(d('2026-02-28'))).toBe('2026-02-28');
    expect(hasPoints([[1, 2], [null, 3]])).toBe(true);
    expect(hasPoints([[1], [null]])).toBe(false);
  });
});
