import { describe, expect, it } from 'vitest';
import { change, growthPct, seriesChange, trend } from './growth';

describe('growthPct', () => {
  it('computes positive and negative growth', () => {
    expect(growthPct(100, 150)).toBe(50);
    expect(growthPct(200, 150)).toBe(-25);
    expect(growthPct(1824423, 1842365)).toBeCloseTo(0.98343, 4);
  });
  it('is null (not Infinity or NaN) when the start is zero', () => {
    expect(growthPct(0, 100)).toBeNull();
    expect(growthPct(0, 0)).toBeNull();
  });
  it('is null for non-finite input', () => {
    expect(growthPct(NaN, 1)).toBeNull();
    expect(growthPct(1, Infinity)).toBeNull();
  });
  it('uses the magnitude of a negative start', () => {
    expect(growthPct(-10, -5)).toBe(50);
  });
});

describe('change / seriesChange / trend', () => {
  it('gives absolute and percent change', () => {
    expect(change(1000, 900)).toEqual({ absolute: -100, percent: -10 });
    expect(change(0, 5)).toEqual({ absolute: 5, percent: null });
  });
  it('uses the first and last non-null values of a series', () => {
    expect(seriesChange([null, 100, 120, null, 110, null])).toEqual({ absolute: 10, percent: 10 });
    expect(seriesChange([5])).toEqual({ absolute: 0, percent: 0 });
    expect(seriesChange([null, undefined])).toBeNull();
    expect(seriesChange([])).toBeNull();
  });
  it('names the direction', () => {
    expect(trend(3)).toBe('up');
    expect(trend(-0.1)).toBe('down');
    expect(trend(0)).toBe('flat');
    expect(trend(null)).toBe('unknown');
  });
});
