// Honest states: offline (navigator + network errors), 5xx with Retry, gateway 429 with its retry time, empty.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeSerious, launch, newPage, screenshot, uiLogin, url } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

describe('states', () => {
  test('offline: banner and a network error with Retry, then recovery', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    await page.waitForSelector('[data-testid=result-row]');
    await context.setOffline(true);
    await page.waitForSelector('[data-testid=offline-banner]');
    await page.click('[data-testid=nav-leaderboards]');
    const err = await page.waitForSelector('[data-testid=error-state]');
    assert.match(await err.textContent(), /offline/i);
    await screenshot(page, 'offline');
    await context.setOffline(false);
    await page.click('[data-testid=retry]');
    await page.waitForSelector('[data-testid=lb-row], [data-testid=empty]');
    await page.waitForSelector('[data-testid=offline-banner]', { state: 'detached' });
    assert.equal(await page.$('[data-testid=error-state]'), null);
    await context.close();
  });

  test('5xx: message, request id and a Retry button that recovers', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    let fail = true;
    // the gateway answering 503 (degraded) for this call until the test lets it through
    await page.route('**/coffee/leaderboard/**', (route) =>
      fail
        ? route.fulfill({
            status: 503,
            headers: { 'content-type': 'application/problem+json', 'retry-after': '2', 'x-request-id': 'e2e-req-1' },
            body: JSON.stringify({ type: 'https://bulbul.dev/problems/unavailable', title: 'Service Unavailable', status: 503, detail: 'degraded: clickhouse unreachable' }),
          })
        : route.continue(),
    );
    await page.click('[data-testid=nav-leaderboards]');
    const err = await page.waitForSelector('[data-testid=error-state][data-status="503"]');
    const text = await err.textContent();
    assert.match(text, /temporarily unavailable/i);
    assert.match(text, /degraded: clickhouse unreachable/);
    assert.match(text, /e2e-req-1/);
    await screenshot(page, 'error-5xx');
    assert.deepEqual(await axeSerious(page), [], 'axe: error state');
    fail = false;
    await page.click('[data-testid=retry]');
    await page.waitForSelector('[data-testid=lb-row], [data-testid=empty]');
    await context.close();
  });

  test('gateway 429: the retry time from Retry-After, Retry enabled after it', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    let fail = true;
    await page.route('**/coffee/collections?*', (route) =>
      fail
        ? route.fulfill({
            status: 429,
            headers: { 'content-type': 'application/problem+json', 'retry-after': '3', ratelimit: '"partner";r=0;t=3' },
            body: JSON.stringify({ type: 'https://bulbul.dev/problems/too-many-requests', title: 'Too Many Requests', status: 429, detail: 'slow down' }),
          })
        : route.continue(),
    );
    await page.click('[data-testid=nav-collections]');
    const err = await page.waitForSelector('[data-testid=error-state][data-status="429"]');
    assert.match(await err.textContent(), /try again in [1-3] s/i);
    assert.equal(await page.isDisabled('[data-testid=retry]'), true, 'Retry waits for Retry-After');
    fail = false;
    await page.waitForSelector('[data-testid=retry]:not([disabled])', { timeout: 6000 });
    await page.click('[data-testid=retry]');
    await page.waitForSelector('[data-testid=collection-row], [data-testid=empty]');
    await context.close();
  });

  test('unknown client route shows a not-found page inside the app', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    await page.goto(url('/no/such/page'));
    await page.waitForSelector('h1:has-text("Page not found")');
    await context.close();
  });
});
