import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from './client';

const KEY = {
  id: 7,
  name: 'crm',
  client_id: 'key_0123456789abcdef',
  prefix: 'bb_live_AbCd',
  scope: 'read',
  status: 'active',
  created_at: '2026-11-25T10:00:00Z',
  created_by: 1,
  last_used_at: null,
  expires_at: null,
  revoked_at: null,
  rotated_from: null,
};
const SECRET = 'bb_live_' + 'a'.repeat(38);

/** Stubs fetch with one answer; returns the mock to inspect the call. */
function answer(res: Response) {
  const f = vi.fn(async (_url: string, _init?: RequestInit) => res);
  vi.stubGlobal('fetch', f);
  return f;
}
const json = (status: number, body: unknown, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('API keys client', () => {
  it('lists keys', async () => {
    const f = answer(json(200, [KEY]));
    expect(await listApiKeys()).toEqual([KEY]);
    expect(f.mock.calls[0][0]).toBe('/coffee/api-keys');
    expect(f.mock.calls[0][1]?.method).toBe('GET');
  });

  it('creates a key with a JSON body and reads the 201', async () => {
    const f = answer(json(201, { secret: SECRET, key: KEY }));
    const c = await createApiKey({ name: 'crm', scope: 'read', expires_at: '2027-01-31T23:59:59Z' });
    expect(c.secret).toBe(SECRET);
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('/coffee/api-keys');
    expect(init?.method).toBe('POST');
    expect(JSON.parse(String(init?.body))).toEqual({ name: 'crm', scope: 'read', expires_at: '2027-01-31T23:59:59Z' });
    expect((init?.headers as Record<string, string>)['content-type']).toBe('application/json');
  });

  it('rotates without a body', async () => {
    const f = answer(json(201, { secret: SECRET, key: { ...KEY, id: 8, rotated_from: 7 } }));
    expect((await rotateApiKey(7)).key.rotated_from).toBe(7);
    expect(f.mock.calls[0][0]).toBe('/coffee/api-keys/7/rotate');
    expect(f.mock.calls[0][1]?.body).toBeUndefined();
  });

  it('revokes: 204 without a body means propagated', async () => {
    const f = answer(new Response(null, { status: 204 }));
    expect(await revokeApiKey(7)).toEqual({ revoked: true, propagated: true });
    expect(f.mock.calls[0][0]).toBe('/coffee/api-keys/7');
    expect(f.mock.calls[0][1]?.method).toBe('DELETE');
  });

  it('revokes: 202 with a JSON body is read', async () => {
    answer(json(202, { revoked: true, propagated: false }));
    expect(await revokeApiKey(7)).toEqual({ revoked: true, propagated: false });
  });

  it('turns a 402 problem into an ApiError naming the plan', async () => {
    const detail = 'API keys need a SAAS or PAID plan; this partner is on the FREE plan';
    answer(json(402, { type: 'about:blank', title: 'Payment Required', status: 402, detail }, 'application/problem+json'));
    const err = await createApiKey({ name: 'x', scope: 'read' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(402);
    expect(err.detail).toBe(detail);
  });
});
