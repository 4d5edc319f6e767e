import { describe, expect, it } from 'vitest';
import { formatCount, formatInteger, formatMonth, formatPercent, formatSignedCount, formatSignedPercent, initials } from './format';

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [999.4, '999'],
    [999.6, '1K'],
    [1000, '1K'],
    [1049, '1K'],
    [1050, '1.1K'],
    [1250, '1.3K'],
    [12_345, '12.3K'],
    [999_949, '999.9K'],
    [999_950, '1M'],
    [1_000_000, '1M'],
    [1_200_000, '1.2M'],
    [2_968_750, '3M'],
    [1_234_567_890, '1.2B'],
    [3.2e12, '3.2T'],
  ])('%d → %s', (n, s) => expect(formatCount(n)).toBe(s));

  it('keeps the sign of negative numbers', () => {
    expect(formatCount(-1500)).toBe('-1.5K');
    expect(formatCount(-999)).toBe('-999');
    expect(formatCount(-1_200_000)).toBe('-1.2M');
  });

  it('shows a dash for missing values', () => {
    expect(formatCount(null)).toBe('—');
    expect(formatCount(undefined)).toBe('—');
    expect(formatCount(NaN)).toBe('—');
    expect(formatCount(Infinity)).toBe('—');
  });
});

describe('formatSignedCount', () => {
  it('adds + for growth and keeps - for decline', () => {
    expect(formatSignedCount(17942)).toBe('+17.9K');
    expect(formatSignedCount(-7951)).toBe('-8K');
    expect(formatSignedCount(0)).toBe('0');
    expect(formatSignedCount(null)).toBe('—');
  });
});

describe('percent formatting', () => {
  it('formats percent values', () => {
    expect(formatPercent(4.626613)).toBe('4.63%');
    expect(formatPercent(0)).toBe('0.00%');
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(12.345, 1)).toBe('12.3%');
  });
  it('signs percent changes, with no sign for zero and a dash for undefined growth', () => {
    expect(formatSignedPercent(0.9834)).toBe('+0.98%');
    expect(formatSignedPercent(-12.5)).toBe('-12.50%');
    expect(formatSignedPercent(-0.001)).toBe('0.00%');
    expect(formatSignedPercent(0)).toBe('0.00%');
    expect(formatSignedPercent(null)).toBe('—');
  });
});

describe('formatInteger, formatMonth, initials', () => {
  it('groups thousands', () => {
    expect(formatInteger(1842365)).toBe('1,842,365');
    expect(formatInteger(undefined)).toBe('—');
  });
  it('names months', () => {
    expect(formatMonth('2026-10-01')).toBe('October 2026');
    expect(formatMonth('2026-01')).toBe('January 2026');
    expect(formatMonth('garbage')).toBe('garbage');
  });
  it('makes initials from the name or handle', () => {
    expect(initials('Deepi Kara', 'deepi.kara14')).toBe('DK');
    expect(initials('nasa (simulated)', 'nasa')).toBe('NA');
    expect(initials('', 'tael.elno65')).toBe('TE');
    expect(initials('', '')).toBe('?');
    expect(initials('madonna')).toBe('MA');
  });
});
