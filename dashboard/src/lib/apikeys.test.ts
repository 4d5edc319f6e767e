import { describe, expect, it } from 'vitest';
import { buildNewKey, endOfDayUtc, formatOrNever, minExpiryDate, revocationNote, scopeLabel, SCOPE_CHOICES, statusLabel } from './apikeys';
import { formatDateTime } from './format';

const NOW = new Date('2026-11-25T10:00:00Z');

describe('endOfDayUtc', () => {
  it('is the last second of that day in UTC', () => {
    expect(endOfDayUtc('2026-12-31')).toBe('2026-12-31T23:59:59Z');
    expect(endOfDayUtc('2028-02-29')).toBe('2028-02-29T23:59:59Z');
    expect(Date.parse(endOfDayUtc('2026-11-25')!)).toBe(Date.UTC(2026, 10, 25, 23, 59, 59));
  });
  it('refuses what is not a calendar date', () => {
    expect(endOfDayUtc('')).toBeNull();
    expect(endOfDayUtc('2026-02-30')).toBeNull();
    expect(endOfDayUtc('31/12/2026')).toBeNull();
  });
  it('offers today (UTC) as the earliest day', () => {
    expect(minExpiryDate(NOW)).toBe('2026-11-25');
    expect(minExpiryDate(new Date('2026-11-25T23:30:00-05:00'))).toBe('2026-11-26');
  });
});

describe('buildNewKey', () => {
  it('trims the name and omits an empty expiry (never expires)', () => {
    expect(buildNewKey('  nightly sync ', 'read', '', NOW)).toEqual({ ok: true, body: { name: 'nightly sync', scope: 'read' } });
    expect(buildNewKey('crm', 'read_write', '   ', NOW)).toEqual({ ok: true, body: { name: 'crm', scope: 'read_write' } });
  });
  it('sends the end of the chosen day in UTC', () => {
    expect(buildNewKey('crm', 'read', '2027-01-31', NOW)).toEqual({
      ok: true,
      body: { name: 'crm', scope: 'read', expires_at: '2027-01-31T23:59:59Z' },
    });
    // today still has a future end
    expect(buildNewKey('crm', 'read', '2026-11-25', NOW)).toMatchObject({ ok: true, body: { expires_at: '2026-11-25T23:59:59Z' } });
  });
  it('refuses a past day, a bad date, a blank or long name, an unknown scope', () => {
    expect(buildNewKey('crm', 'read', '2026-11-24', NOW)).toEqual({ ok: false, error: expect.stringMatching(/today or later/) });
    expect(buildNewKey('crm', 'read', '2026-13-01', NOW)).toEqual({ ok: false, error: expect.stringMatching(/not a valid date/) });
    expect(buildNewKey('   ', 'read', '', NOW)).toEqual({ ok: false, error: expect.stringMatching(/name/) });
    expect(buildNewKey('x'.repeat(101), 'read', '', NOW)).toEqual({ ok: false, error: expect.stringMatching(/at most 100/) });
    expect(buildNewKey('admin', 'admin', '', NOW)).toEqual({ ok: false, error: expect.any(String) });
  });
  it('counts characters, not UTF-16 units, like the API', () => {
    expect(buildNewKey('🔑'.repeat(100), 'read', '', NOW).ok).toBe(true);
    expect(buildNewKey('🔑'.repeat(101), 'read', '', NOW).ok).toBe(false);
  });
});

describe('labels', () => {
  it('names scopes and statuses for people', () => {
    expect(SCOPE_CHOICES.map((c) => c.value)).toEqual(['read', 'read_write']);
    expect(scopeLabel('read')).toBe('Read only');
    expect(scopeLabel('read_write')).toBe('Read and write');
    expect(scopeLabel('admin')).toBe('admin');
    expect(statusLabel('active')).toBe('Active');
    expect(statusLabel('expired')).toBe('Expired');
    expect(statusLabel('revoked')).toBe('Revoked');
    expect(statusLabel('paused')).toBe('paused');
  });
  it('says "never" for a missing time', () => {
    expect(formatOrNever(null)).toBe('never');
    expect(formatOrNever(undefined)).toBe('never');
    expect(formatOrNever('2026-11-25T09:50:32Z')).toBe(formatDateTime('2026-11-25T09:50:32Z'));
  });
  it('notes a revocation only when gateways learn of it later (202)', () => {
    expect(revocationNote('crm', { revoked: true, propagated: true })).toBeNull();
    expect(revocationNote('crm', { revoked: true, propagated: false })).toMatch(/“crm”.*few seconds/);
  });
});
