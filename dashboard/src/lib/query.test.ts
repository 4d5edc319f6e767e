import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, pageCount, parseIds, rangeLabel, stateFromQuery, stateToQuery, toSearchRequest, type DiscoverState } from './query';

describe('query state', () => {
  it('parses an empty query to the defaults and writes defaults as an empty query', () => {
    expect(stateFromQuery('')).toEqual(DEFAULT_STATE);
    expect(stateToQuery(DEFAULT_STATE)).toBe('');
  });

  it('round-trips a full state', () => {
    const s: DiscoverState = {
      text: 'kara & co',
      minFollowers: 10000,
      maxFollowers: 2000000,
      minEngagement: 1.5,
      category: 'fashion',
      country: 'GB',
      sort: 'engagement_rate',
      dir: 'asc',
      page: 3,
      size: 50,
    };
    const q = stateToQuery(s);
    expect(stateFromQuery(q)).toEqual(s);
    expect(stateToQuery(stateFromQuery(q))).toBe(q);
    expect(q).toContain('q=kara+%26+co');
  });

  it('ignores invalid values', () => {
    const s = stateFromQuery('min_followers=abc&max_followers=-5&sort=bogus&dir=up&page=0&size=7&min_er=');
    expect(s.minFollowers).toBeNull();
    expect(s.maxFollowers).toBeNull();
    expect(s.minEngagement).toBeNull();
    expect(s.sort).toBe('followers');
    expect(s.dir).toBe('desc');
    expect(s.page).toBe(1);
    expect(s.size).toBe(20);
  });

  it('normalises case of category and country', () => {
    const s = stateFromQuery('category=Fashion&country=gb');
    expect(s.category).toBe('fashion');
    expect(s.country).toBe('GB');
  });
});

describe('toSearchRequest', () => {
  it('maps the state to API filters', () => {
    const r = toSearchRequest({ ...DEFAULT_STATE, text: 'nasa', minFollowers: 1000, maxFollowers: 5000, minEngagement: 2, category: 'tech', country: 'US', page: 2 });
    expect(r).toEqual({
      filters: [
        { field: 'followers', op: 'gte', value: 1000 },
        { field: 'followers', op: 'lte', value: 5000 },
        { field: 'engagement_rate', op: 'gte', value: 2 },
        { field: 'category', op: 'eq', value: 'tech' },
        { field: 'country', op: 'eq', value: 'US' },
        { field: 'text', op: 'contains', value: 'nasa' },
      ],
      sort: { field: 'followers', direction: 'desc' },
      page: 2,
      size: 20,
    });
  });
  it('sends no filters for the default state, and keeps a 0 minimum', () => {
    expect(toSearchRequest(DEFAULT_STATE).filters).toEqual([]);
    expect(toSearchRequest({ ...DEFAULT_STATE, minFollowers: 0 }).filters).toEqual([{ field: 'followers', op: 'gte', value: 0 }]);
  });
});

describe('paging helpers', () => {
  it('counts pages', () => {
    expect(pageCount(201, 20)).toBe(11);
    expect(pageCount(200, 20)).toBe(10);
    expect(pageCount(0, 20)).toBe(1);
  });
  it('labels ranges', () => {
    expect(rangeLabel(1, 20, 201)).toBe('1–20 of 201');
    expect(rangeLabel(11, 20, 201)).toBe('201–201 of 201');
    expect(rangeLabel(1, 20, 0)).toBe('0 results');
    expect(rangeLabel(30, 20, 201)).toBe('0 of 201');
  });
  it('parses id lists', () => {
    expect(parseIds('14, 201,14,x,-3,0,7')).toEqual([14, 201, 7]);
    expect(parseIds(null)).toEqual([]);
    expect(parseIds('1,2,3,4,5,6,7,8,9,10,11,12')).toHaveLength(10);
  });
});
