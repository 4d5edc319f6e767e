// Refresh now (beat: 200, then 429 with Retry-After) and logout (the old token is refused afterwards).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, cfg, launch, newPage, screenshot, tokenOf, uiLogin, until, url } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

describe('session', () => {
  test('Refresh now: the first answer succeeds, a second quick one shows the 429 retry time', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    const search = await api(token, 'POST', '/coffee/profiles/instagram/search', { page: 1, size: 100 });
    const pool = search.body.items;
    // a random profile, so reruns within the limit window do not start at 429; a 429 first answer means another
    // run refreshed it recently: take another one (at most 3)
    let ok = false;
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      const p = pool[Math.floor(Math.random() * pool.length)];
      await page.goto(url(`/p/instagram/${p.id}`));
      await page.waitForSelector('[data-testid=profile-name]');
      const before = await page.textContent('[data-testid=last-scraped]');
      await page.click('[data-testid=refresh-now]');
      const kind = await until(async () => {
        const k = await page.getAttribute('[data-testid=refresh-status]', 'data-kind');
        return k || null;
      }, { timeout: 60_000, what: 'first refresh answer' });
      if (kind === '429') continue;
      const text = await page.textContent('[data-testid=refresh-status]');
      await screenshot(page, 'refresh-first');
      assert.equal(kind, 'ok', `first refresh answered HTTP ${kind}: ${text}`);
      assert.match(text, /^Updated /);
      assert.ok(before != null);
      // second click right away: over the per-handle limit
      await page.click('[data-testid=refresh-now]');
      await page.waitForSelector('[data-testid=refresh-status][data-kind="429"]', { timeout: 30_000 });
      const t2 = await page.textContent('[data-testid=refresh-status]');
      assert.match(t2, /try again in \d+ (s|min)/);
      await screenshot(page, 'refresh-429');
      ok = true;
    }
    assert.ok(ok, 'found a profile whose first refresh was not rate limited');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('logout ends the session: back to login, and the old token is refused (401)', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    assert.equal((await api(token, 'GET', '/coffee/usage')).status, 200);
    await page.click('[data-testid=logout]');
    await page.waitForURL(/\/login/);
    assert.match(await page.textContent('[data-testid=login-reason]'), /signed out/i);
    assert.equal(await tokenOf(page), null, 'token cleared from sessionStorage');
    // propagation to every gateway can take a moment (202 propagated:false): poll
    const refused = await until(async () => {
      const r = await api(token, 'GET', '/coffee/usage');
      return r.status === 401 ? r : null;
    }, { timeout: 15_000, interval: 500, what: 'old token refused' });
    assert.match(refused.headers.get('www-authenticate') || '', /invalid_token/);
    assert.equal(refused.body.status, 401);
    // the app, visited with the dead session, sends to login with the reason
    await page.goto(url('/collections'));
    await page.waitForURL(/\/login/);
    await screenshot(page, 'logged-out');
    await context.close();
  });

  test('a refused token mid-session sends the user to login with the reason', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    // end the session behind the app's back
    const out = await api(token, 'POST', '/identity/logout');
    assert.ok(out.status === 204 || out.status === 202, `logout HTTP ${out.status}`);
    await until(async () => (await api(token, 'GET', '/coffee/usage')).status === 401, { timeout: 15_000, interval: 500, what: 'token refused' });
    await page.click('[data-testid=nav-collections]');
    await page.waitForURL(/\/login\?reason=/);
    const reason = await page.textContent('[data-testid=login-reason]');
    assert.match(reason, /log in again/i);
    assert.ok(reason.length > 'Please log in again: '.length + 3, 'the reason names the failed check');
    assert.match(page.url(), /next=%2Fcollections/);
    await context.close();
  });
});
