import { describe, expect, it } from 'vitest';
import { chunk, median, summarize } from './summary';

const p = (platform: string, followers: number, er: number, extra: Record<string, unknown> = {}) => ({
  platform,
  followers,
  engagement_rate: er,
  avg_likes: 0,
  avg_views: 100,
  ...extra,
});

describe('summarize', () => {
  it('sums, weights and counts', () => {
    const s = summarize([
      p('instagram', 1000, 2, { category: 'food', is_verified: true }),
      p('instagram', 3000, 4, { category: 'food' }),
      p('youtube', 0, 10, { category: 'tech' }),
    ]);
    expect(s.profiles).toBe(3);
    expect(s.totalFollowers).toBe(4000);
    expect(s.medianFollowers).toBe(1000);
    expect(s.weightedEngagement).toBeCloseTo(3.5);
    expect(s.meanEngagement).toBeCloseTo(16 / 3);
    expect(s.totalAvgViews).toBe(300);
    expect(s.byPlatform).toEqual({ instagram: 2, youtube: 1 });
    expect(s.topCategories).toEqual([
      ['food', 2],
      ['tech', 1],
    ]);
    expect(s.verified).toBe(1);
  });
  it('has no averages for an empty collection (no division by zero)', () => {
    const s = summarize([]);
    expect(s.profiles).toBe(0);
    expect(s.weightedEngagement).toBeNull();
    expect(s.meanEngagement).toBeNull();
    expect(s.medianFollowers).toBeNull();
  });
  it('has no weighted engagement when every profile has 0 followers', () => {
    expect(summarize([p('youtube', 0, 3)]).weightedEngagement).toBeNull();
  });
});

describe('median / chunk', () => {
  it('computes medians of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
  it('chunks for the compare endpoint', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 10)).toEqual([]);
  });
});
