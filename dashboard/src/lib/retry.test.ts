import { describe, expect, it } from 'vitest';
import { formatWait, parseRateLimit, parseRetryAfter } from './retry';

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('1')).toBe(1);
    expect(parseRetryAfter(' 60 ')).toBe(60);
    expect(parseRetryAfter('0')).toBe(0);
  });
  it('reads an HTTP-date relative to now', () => {
    const now = Date.parse('Wed, 25 Nov 2026 14:22:14 GMT');
    expect(parseRetryAfter('Wed, 25 Nov 2026 14:23:14 GMT', now)).toBe(60);
    expect(parseRetryAfter('Wed, 25 Nov 2026 14:20:00 GMT', now)).toBe(0);
  });
  it('is null when absent or garbled', () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('')).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('-5')).toBeNull();
  });
});

describe('parseRateLimit', () => {
  it('reads the structured header', () => {
    expect(parseRateLimit('"partner";r=48;t=1, "client";r=18;t=1')).toEqual([
      { name: 'partner', r: 48, t: 1 },
      { name: 'client', r: 18, t: 1 },
    ]);
    expect(parseRateLimit(null)).toEqual([]);
  });
});

describe('formatWait', () => {
  it('words the wait', () => {
    expect(formatWait(1)).toBe('1 s');
    expect(formatWait(0.2)).toBe('1 s');
    expect(formatWait(59)).toBe('59 s');
    expect(formatWait(60)).toBe('1 min');
    expect(formatWait(125)).toBe('2 min 5 s');
    expect(formatWait(-3)).toBe('0 s');
  });
});
