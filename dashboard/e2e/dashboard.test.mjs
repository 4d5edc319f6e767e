// SAAS partner flows: login, discovery, profile charts, compare, leaderboards, collections, a11y, 390 px, budget.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import {
  api,
  axeSerious,
  cfg,
  chartData,
  horizontalOverflow,
  isoToX,
  launch,
  newPage,
  screenshot,
  tokenOf,
  uiLogin,
  until,
  url,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Parses CSV (quotes, doubled quotes, commas/newlines in cells). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

describe('SAAS partner', () => {
  test('logs in, and a wrong password is refused with a message', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(url('/'));
    await page.waitForURL(/\/login/);
    // the URL changes before the login page has rendered and set its title
    await page.waitForSelector('[data-testid=login-form]');
    await page.waitForFunction(() => document.title === 'Log in · bulbul', null, { timeout: 5000 }).catch(() => {});
    assert.equal(await page.title(), 'Log in · bulbul');
    await page.fill('#email', cfg.saasEmail);
    await page.fill('#password', 'not-the-password');
    await page.click('[data-testid=login-submit]');
    const err = await page.waitForSelector('[data-testid=inline-error]');
    assert.match(await err.textContent(), /wrong email or password/i);
    assert.equal(await tokenOf(page), null);
    await screenshot(page, 'login');
    assert.deepEqual(await axeSerious(page), [], 'axe: login');
    await uiLogin(page);
    assert.match(page.url(), /\/discover\/instagram$/);
    assert.ok(await tokenOf(page), 'token kept in sessionStorage');
    // keyboard: the first Tab lands on a visible skip link, which moves focus to the main content
    await page.reload();
    await page.waitForSelector('[data-testid=result-row]');
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => {
      const a = document.activeElement;
      const r = a.getBoundingClientRect();
      return { text: a.textContent, visible: r.top >= 0 && r.height > 0, outline: getComputedStyle(a).outlineStyle };
    });
    assert.equal(skip.text, 'Skip to content');
    assert.ok(skip.visible, 'skip link visible when focused');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main' || location.hash === '#main');
    // focus is visible on controls (an outline from :focus-visible)
    await page.focus('#f-text');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(ring, 'none', 'visible focus ring');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('searches, pages, filters, and the URL reflects the query (back button works)', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    await page.waitForSelector('[data-testid=result-row]');
    const rows1 = await page.$$eval('[data-testid=result-row]', (r) => r.map((x) => x.dataset.profileId));
    const expected = await api(token, 'POST', '/coffee/profiles/instagram/search', { page: 1, size: 20, sort: { field: 'followers', direction: 'desc' } });
    assert.equal(expected.status, 200);
    assert.deepEqual(rows1, expected.body.items.map((p) => String(p.id)), 'first page matches the API');
    assert.match(await page.textContent('[data-testid=result-count]'), new RegExp(`1–20 of ${expected.body.total}`));
    // counts are formatted for people
    const f0 = await page.textContent('[data-testid=result-row] [data-testid=followers]');
    assert.match(f0.trim(), /^\d+(\.\d)?[KMB]?$/);
    // a null picture_url shows initials
    if (expected.body.items.some((p) => !p.picture_url)) assert.ok(await page.$('[data-testid=avatar-initials]'));
    await screenshot(page, 'discover');
    assert.deepEqual(await axeSerious(page), [], 'axe: discover');

    await page.click('[data-testid=page-next]');
    await page.waitForURL(/page=2/);
    await until(async () => (await page.textContent('[data-testid=page-indicator]')).includes('Page 2'), { what: 'page 2' });
    await page.waitForFunction((first) => document.querySelector('[data-testid=result-row]')?.dataset.profileId !== first, rows1[0]);
    const rows2 = await page.$$eval('[data-testid=result-row]', (r) => r.map((x) => x.dataset.profileId));
    const exp2 = await api(token, 'POST', '/coffee/profiles/instagram/search', { page: 2, size: 20, sort: { field: 'followers', direction: 'desc' } });
    assert.deepEqual(rows2, exp2.body.items.map((p) => String(p.id)), 'second page matches the API');

    await page.goBack();
    await page.waitForURL((u) => !u.search.includes('page=2'));
    await page.waitForFunction((first) => document.querySelector('[data-testid=result-row]')?.dataset.profileId === first, rows1[0]);

    // filters go into the URL and the URL restores them
    await page.fill('#f-min', '1000000');
    await page.selectOption('#f-cat', 'parenting');
    await page.click('[data-testid=filter-submit]');
    await page.waitForURL(/min_followers=1000000/);
    assert.match(page.url(), /category=parenting/);
    await page.waitForFunction(() => !document.querySelector('.table-wrap[aria-busy=true]'));
    const filtered = await api(token, 'POST', '/coffee/profiles/instagram/search', {
      filters: [
        { field: 'followers', op: 'gte', value: 1000000 },
        { field: 'category', op: 'eq', value: 'parenting' },
      ],
      page: 1,
      size: 20,
      sort: { field: 'followers', direction: 'desc' },
    });
    const shown = await page.$$eval('[data-testid=result-row]', (r) => r.map((x) => x.dataset.profileId));
    assert.deepEqual(shown, filtered.body.items.map((p) => String(p.id)));
    // a shared URL opens the same state
    const shared = page.url();
    const { context: c2, page: p2 } = await newPage(browser);
    await uiLogin(p2);
    await p2.goto(shared);
    await p2.waitForFunction(() => !document.querySelector('.table-wrap[aria-busy=true]'));
    assert.equal(await p2.inputValue('#f-min'), '1000000');
    assert.equal(await p2.inputValue('#f-cat'), 'parenting');
    await c2.close();

    // empty results
    await page.fill('#f-text', 'zzzz-no-such-creator-zzzz');
    await page.click('[data-testid=filter-submit]');
    await page.waitForSelector('[data-testid=empty]');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('profile page draws the API timeseries and shows growth', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    const first = await page.waitForSelector('[data-testid=result-row] [data-testid=profile-link]');
    await first.click();
    await page.waitForURL(/\/p\/instagram\/\d+/);
    const id = Number(page.url().match(/\/p\/instagram\/(\d+)/)[1]);
    await page.waitForSelector('[data-testid=profile-name]');

    for (const g of ['day', 'week']) {
      if (g !== 'day') {
        await page.selectOption('[data-testid=granularity]', g);
        await page.waitForSelector(`[data-testid=analytics][data-granularity=${g}]`);
      }
      const a = await page.$eval('[data-testid=analytics]', (el) => ({ ...el.dataset }));
      const ts = await api(token, 'GET', `/coffee/analytics/instagram/${id}/timeseries?from=${a.from}&to=${a.to}&granularity=${a.granularity}&metrics=followers,engagement_rate`);
      assert.equal(ts.status, 200);
      assert.ok(ts.body.length > 0, 'the API has points for this profile');
      await page.waitForFunction((n) => {
        const el = document.querySelector('[data-testid=chart][data-metric=followers]');
        return el && el.dataset.ready === 'true' && el.__chartData && el.__chartData[0].length === n;
      }, ts.body.length);
      const drawn = await chartData(page);
      const sorted = [...ts.body].sort((x, y) => x.date.localeCompare(y.date));
      assert.deepEqual(drawn[0], sorted.map((r) => isoToX(r.date)), `${g}: x values are the API dates`);
      assert.deepEqual(drawn[1], sorted.map((r) => r.followers), `${g}: y values are the API followers`);
      const er = await chartData(page, '[data-testid=chart][data-metric=engagement_rate]');
      assert.deepEqual(er[1], sorted.map((r) => r.engagement_rate), `${g}: engagement values`);
      // the uPlot canvas exists and the accessible table has one row per point
      assert.ok(await page.$('[data-testid=chart][data-metric=followers] canvas'));
      const tableRows = await page.$$eval('[data-testid=chart][data-metric=followers] table.chart-table tbody tr', (r) => r.length);
      assert.equal(tableRows, sorted.length);
      // growth matches the growth endpoint
      const gr = await api(token, 'GET', `/coffee/analytics/instagram/${id}/growth?from=${a.from}&to=${a.to}`);
      assert.equal(gr.status, 200);
      const growthText = await page.textContent('[data-testid=growth-stats] [data-testid=growth]');
      if (gr.body.followers_change_pct != null) {
        const pct = Math.abs(gr.body.followers_change_pct).toFixed(2);
        assert.ok(growthText.includes(pct), `growth shows ${pct}% (got “${growthText}”)`);
      }
    }
    assert.match(page.url(), /g=week/, 'granularity is in the URL');
    await screenshot(page, 'profile');
    assert.deepEqual(await axeSerious(page), [], 'axe: profile');
    // SAAS sees premium fields unlocked
    assert.equal(await page.getAttribute('[data-testid=premium]', 'data-premium'), 'unlocked');
    assert.equal(await page.$('[data-testid=locked]'), null);
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('compares two profiles on one chart', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    await page.waitForSelector('[data-testid=result-row]');
    const boxes = await page.$$('[data-testid=select-row]');
    await boxes[0].check();
    await boxes[1].check();
    const ids = await page.$$eval('[data-testid=result-row]', (r) => r.slice(0, 2).map((x) => Number(x.dataset.profileId)));
    await page.click('[data-testid=compare-selected]');
    await page.waitForURL(/\/compare\/instagram\?ids=/);
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=chart]');
      return el && el.dataset.ready === 'true' && el.__chartData?.length === 3;
    });
    const drawn = await page.$eval('[data-testid=chart]', (el) => el.__chartData);
    const rows = await page.$$('[data-testid=compare-row]');
    assert.equal(rows.length, 2);
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get('ids'), ids.join(','));
    const [from, to] = await page.$$eval('#c-from, #c-to', (els) => els.map((e) => e.value));
    const g = await page.inputValue('#c-g');
    for (let i = 0; i < 2; i++) {
      const ts = await api(token, 'GET', `/coffee/analytics/instagram/${ids[i]}/timeseries?from=${from}&to=${to}&granularity=${g}&metrics=followers`);
      assert.equal(ts.status, 200);
      const byX = new Map(ts.body.map((r) => [isoToX(r.date), r.followers]));
      const drawnPoints = drawn[0].map((x, j) => [x, drawn[i + 1][j]]).filter(([, v]) => v != null);
      assert.equal(drawnPoints.length, ts.body.length, `series ${i} has every API point`);
      for (const [x, v] of drawnPoints) assert.equal(v, byX.get(x));
    }
    await screenshot(page, 'compare');
    assert.deepEqual(await axeSerious(page), [], 'axe: compare');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('leaderboard shows the month’s ranks with movement', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    await page.click('[data-testid=nav-leaderboards]');
    await page.waitForURL(/\/leaderboards\/instagram/);
    const month = await page.inputValue('[data-testid=lb-month]');
    await page.waitForSelector('[data-testid=lb-row], [data-testid=empty]');
    const lb = await api(token, 'GET', `/coffee/leaderboard/instagram?month=${month}&metric=followers&limit=50`);
    assert.equal(lb.status, 200);
    const ranks = await page.$$eval('[data-testid=lb-row] td.rank', (t) => t.map((x) => Number(x.textContent)));
    assert.deepEqual(ranks, lb.body.entries.map((e) => e.rank));
    if (lb.body.entries.length) {
      const kinds = await page.$$eval('[data-testid=movement]', (m) => m.map((x) => x.dataset.kind));
      assert.ok(kinds.every((k) => ['up', 'down', 'same', 'new', 'unknown'].includes(k)));
      const labels = await page.$$eval('[data-testid=movement] [aria-hidden]', (m) => m.map((x) => x.textContent));
      assert.ok(labels.every((l) => /^(▲\d+|▼\d+|=|new|–)$/.test(l)), labels.join(' '));
    }
    await page.selectOption('[data-testid=lb-metric]', 'engagement_rate');
    await page.waitForURL(/metric=engagement_rate/);
    await screenshot(page, 'leaderboards');
    assert.deepEqual(await axeSerious(page), [], 'axe: leaderboards');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('collections: create (409 on duplicate), add, rename, remove, export CSV, delete', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    const name = `e2e ${Date.now()}`;
    await page.click('[data-testid=nav-collections]');
    await page.waitForURL(/\/collections$/);
    await page.fill('[data-testid=collection-name]', name);
    await page.click('[data-testid=collection-create]');
    await page.waitForURL(/\/collections\/\d+$/);
    const colId = Number(page.url().match(/\/collections\/(\d+)/)[1]);
    try {
      await page.waitForSelector('[data-testid=collection-items] ~ [data-testid=empty], [data-testid=empty]');
      await screenshot(page, 'collection-empty');

      // duplicate name: 409 shown
      await page.click('[data-testid=nav-collections]');
      await page.fill('[data-testid=collection-name]', name.toUpperCase());
      await page.click('[data-testid=collection-create]');
      const dup = await page.waitForSelector('[data-testid=create-collection] [data-testid=inline-error]');
      assert.match(await dup.textContent(), /already/i);
      await page.waitForSelector(`[data-testid=collection-row][data-collection-id="${colId}"]`);
      await screenshot(page, 'collections');
      assert.deepEqual(await axeSerious(page), [], 'axe: collections');

      // add two profiles from the search results
      await page.click('[data-testid=nav-discover]');
      await page.waitForSelector('[data-testid=result-row]');
      const picked = await page.$$eval('[data-testid=result-row]', (r) => r.slice(2, 4).map((x) => Number(x.dataset.profileId)));
      const boxes = await page.$$('[data-testid=select-row]');
      await boxes[2].check();
      await boxes[3].check();
      await page.waitForSelector(`#sel-collection option[value="${colId}"]`, { state: 'attached' });
      await page.selectOption('#sel-collection', String(colId));
      await page.click('[data-testid=selection-bar] [data-testid=add-to-collection-submit]');
      await until(async () => /Added 2/.test(await page.textContent('[data-testid=selection-bar] [data-testid=add-to-collection-status]')), { what: 'added' });
      // adding again says it is already there (409 from the API)
      await page.click('[data-testid=selection-bar] [data-testid=add-to-collection-submit]');
      await until(async () => /already/.test(await page.textContent('[data-testid=selection-bar] [data-testid=add-to-collection-status]')), { what: 'duplicate item' });

      const detail = await api(token, 'GET', `/coffee/collections/${colId}`);
      assert.deepEqual(detail.body.items.map((i) => i.target_id).sort(), [...picked].sort());

      await page.goto(url(`/collections/${colId}`));
      await until(async () => (await page.$$('[data-testid=collection-item]')).length === 2, { what: '2 items' });
      assert.equal((await page.textContent('[data-testid=summary-count]')).trim(), '2');
      await page.waitForSelector('[data-testid=collection-item] a');
      await screenshot(page, 'collection');
      assert.deepEqual(await axeSerious(page), [], 'axe: collection');

      // export CSV
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
      assert.match(download.suggestedFilename(), /^e2e-\d+\.csv$/);
      const csv = (await readFile(await download.path(), 'utf8')).replace(/^\ufeff/, '');
      const rows = parseCsv(csv);
      assert.deepEqual(rows[0].slice(0, 5), ['platform', 'profile_id', 'handle', 'name', 'followers']);
      assert.equal(rows.length, 3, 'header + 2 rows');
      const cmp = await api(token, 'GET', `/coffee/analytics/instagram/compare?ids=${picked.join(',')}&from=2026-01-01&to=2026-01-02`);
      for (const r of rows.slice(1)) {
        const p = cmp.body.find((c) => c.profile.id === Number(r[1]))?.profile;
        assert.ok(p, `row for profile ${r[1]}`);
        assert.equal(r[0], 'instagram');
        assert.equal(r[2], p.handle);
        assert.equal(r[3], p.name);
        assert.equal(Number(r[4]), p.followers);
      }

      // rename
      await page.click('[data-testid=rename-collection]');
      await page.fill('[data-testid=rename-input]', name + ' renamed');
      await page.click('[data-testid=rename-save]');
      await until(async () => (await page.textContent('[data-testid=collection-title]').catch(() => '')) === name + ' renamed', { what: 'renamed' });

      // remove one
      await page.click('[data-testid=collection-item] [data-testid=remove-item]');
      await until(async () => (await page.$$('[data-testid=collection-item]')).length === 1, { what: '1 item' });
      const after1 = await api(token, 'GET', `/coffee/collections/${colId}`);
      assert.equal(after1.body.items.length, 1);
      assert.equal(after1.body.name, name + ' renamed');

      // add from the profile page
      await page.goto(url(`/p/instagram/${picked[0]}`));
      await page.waitForSelector(`#profile-collection option[value="${colId}"]`, { state: 'attached' });
      await page.selectOption('#profile-collection', String(colId));
      await page.click('[data-testid=add-to-collection] [data-testid=add-to-collection-submit]');
      await until(async () => /Added|Already/.test(await page.textContent('[data-testid=add-to-collection-status]')), { what: 'added from profile' });

      // delete
      await page.goto(url(`/collections/${colId}`));
      await page.click('[data-testid=delete-collection]');
      await page.click('[data-testid=confirm-delete]');
      await page.waitForURL(/\/collections$/);
      await page.waitForSelector('[data-testid=collection-row], [data-testid=empty]');
      assert.equal(await page.$(`[data-testid=collection-row][data-collection-id="${colId}"]`), null);
      assert.equal((await api(token, 'GET', `/coffee/collections/${colId}`)).status, 404);
      assert.deepEqual(page.errors, []);
    } finally {
      // leave no test data behind when an assertion failed half-way
      await api(token, 'DELETE', `/coffee/collections/${colId}`);
      await context.close();
    }
  });

  test('main pages have no horizontal scroll at 390 px', async () => {
    const { context, page } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.goto(url('/login'));
    await page.waitForSelector('#email');
    assert.ok((await horizontalOverflow(page)) <= 0, 'login');
    await uiLogin(page);
    const token = await tokenOf(page);
    const search = await api(token, 'POST', '/coffee/profiles/instagram/search', { page: 1, size: 2 });
    const [a, b] = search.body.items.map((p) => p.id);
    const pages = [
      ['/discover/instagram', '[data-testid=result-row]'],
      [`/p/instagram/${a}`, '[data-testid=chart][data-ready=true]'],
      [`/compare/instagram?ids=${a},${b}`, '[data-testid=chart][data-ready=true]'],
      ['/leaderboards/instagram', '[data-testid=lb-row], [data-testid=empty]'],
      ['/collections', '[data-testid=collection-row], [data-testid=empty]'],
    ];
    const cols = await api(token, 'GET', '/coffee/collections');
    const withItems = cols.body.items.find((c) => c.item_count > 0);
    if (withItems) pages.push([`/collections/${withItems.id}`, '[data-testid=collection-item]']);
    for (const [p, sel] of pages) {
      await page.goto(url(p));
      await page.waitForSelector(sel);
      const over = await horizontalOverflow(page);
      await page.waitForFunction(() => !document.querySelector('.skeleton-row'));
      await screenshot(page, `mobile-${p.split('?')[0].split('/').filter(Boolean).join('-')}`);
      assert.ok(over <= 0, `${p}: ${over}px of horizontal scroll at 390 px`);
      const clipped = await page.$$eval('.table-wrap', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
      assert.equal(clipped, 0, `${p}: a table needs sideways scrolling at 390 px`);
      assert.deepEqual(await axeSerious(page), [], `axe at 390 px: ${p}`);
    }
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('first load stays under 200 KB of JS+CSS (transfer size)', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    const search = await api(token, 'POST', '/coffee/profiles/instagram/search', { page: 1, size: 1 });
    // a cold load of the heaviest page (profile: app + uPlot), cache disabled
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.goto(url(`/p/instagram/${search.body.items[0].id}`));
    await page.waitForSelector('[data-testid=chart][data-ready=true]');
    const res = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => /\.(js|css)(\?|$)/.test(new URL(e.name).pathname))
        .map((e) => ({ name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize })),
    );
    assert.ok(res.length >= 2, 'JS and CSS were loaded');
    const total = res.reduce((s, e) => s + Math.max(e.encoded, e.transfer), 0);
    console.log(`# first load JS+CSS: ${(total / 1024).toFixed(1)} KB over ${res.length} files`);
    assert.ok(total < 200 * 1024, `JS+CSS ${total} bytes`);
    for (const e of res) assert.ok(!e.name.startsWith('http') || e.name.startsWith(cfg.baseUrl), `no third-party asset: ${e.name}`);
    await context.close();
  });
});
