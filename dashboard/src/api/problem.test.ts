import { describe, expect, it } from 'vitest';
import { errorFromResponse, networkError, toProblem } from './problem';

describe('toProblem', () => {
  it('reads an RFC 9457 problem', () => {
    expect(toProblem(409, { type: 'https://bulbul.dev/problems/conflict', title: 'Conflict', status: 409, detail: 'you already have a collection named "x"' })).toEqual({
      type: 'https://bulbul.dev/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'you already have a collection named "x"',
    });
  });
  it("reads beat's {code, message}", () => {
    const p = toProblem(429, { code: 2, message: 'Concurrency Limit Exceeded' });
    expect(p.title).toBe('Too Many Requests');
    expect(p.detail).toBe('Concurrency Limit Exceeded');
    expect(p.status).toBe(429);
  });
  it('survives text, HTML and empty bodies', () => {
    expect(toProblem(502, 'upstream timed out').detail).toBe('upstream timed out');
    expect(toProblem(502, '<html>Bad Gateway</html>').detail).toBeUndefined();
    expect(toProblem(500, null)).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(toProblem(418, null, "I'm a teapot").title).toBe("I'm a teapot");
  });
});

describe('errorFromResponse', () => {
  it('keeps Retry-After, the request id and WWW-Authenticate', async () => {
    const res = new Response(JSON.stringify({ type: 't', title: 'Unauthorized', status: 401, detail: 'the session has ended' }), {
      status: 401,
      headers: {
        'content-type': 'application/problem+json',
        'retry-after': '7',
        'x-request-id': 'abc',
        'www-authenticate': 'Bearer error="invalid_token"',
      },
    });
    const e = await errorFromResponse(res);
    expect(e.status).toBe(401);
    expect(e.detail).toBe('the session has ended');
    expect(e.retryAfter).toBe(7);
    expect(e.requestId).toBe('abc');
    expect(e.wwwAuthenticate).toContain('invalid_token');
    expect(e.kind).toBe('http');
  });
  it('falls back to the title without a detail', async () => {
    const e = await errorFromResponse(new Response('', { status: 503 }));
    expect(e.detail).toBe('Service Unavailable');
    expect(e.retryAfter).toBeNull();
  });
});

describe('networkError', () => {
  it('tells aborts from network failures', () => {
    expect(networkError(new TypeError('Failed to fetch')).kind).toBe('network');
    expect(networkError(new DOMException('aborted', 'AbortError')).kind).toBe('aborted');
  });
});
