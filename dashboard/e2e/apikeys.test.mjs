// API keys: create a read-only key (its secret shown once), use it from outside the browser (read 200, write 403),
// dismiss it (gone from the page), revoke it (401 within ~2 s); rotate (both keys work until the old one is revoked);
// a FREE partner is refused a key (402 naming the plan); axe on the page as loaded, with the new key shown, filled,
// and at 390 px (no sideways scrolling).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, apiWithKey, axeSerious, cfg, horizontalOverflow, launch, newPage, screenshot, tokenOf, uiLogin, until, url } from './helpers.mjs';

const SECRET_RE = /^bb_live_[0-9A-Za-z]{38}$/;
/** every key these tests create is named so; leftovers of an interrupted run are revoked at the start */
const PREFIX = 'e2e key ';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Revokes the active test keys (`only`: that name; else every `e2e key …`): a partner holds at most 25 live keys. */
async function revokeTestKeys(token, only) {
  const r = await api(token, 'GET', '/coffee/api-keys');
  if (r.status !== 200) return;
  for (const k of r.body) {
    if (k.status === 'active' && (only ? k.name === only : k.name.startsWith(PREFIX))) await api(token, 'DELETE', `/coffee/api-keys/${k.id}`);
  }
}

/** Whether the secret is in the document: its HTML, any field's value, or its text. */
async function secretInPage(page, secret) {
  if ((await page.content()).includes(secret)) return true;
  return page.evaluate(
    (s) => [...document.querySelectorAll('input, textarea')].some((el) => el.value.includes(s)) || document.body.innerText.includes(s),
    secret,
  );
}

/** Whether the secret went into the URL or the tab's storage (it must never). */
async function secretStored(page, secret) {
  return page.evaluate((s) => {
    const inStore = (st) => Object.keys(st).some((k) => k.includes(s) || (st.getItem(k) || '').includes(s));
    return location.href.includes(s) || inStore(sessionStorage) || inStore(localStorage);
  }, secret);
}

/** A key's row by its (unique) name, optionally with more attribute selectors. */
const rowByName = (name, extra = '') => `[data-testid=api-key-row]${extra}:has-text("${name}")`;

async function openKeys(page) {
  await page.click('[data-testid=nav-api-keys]');
  await page.waitForURL(/\/api-keys$/);
  await page.waitForSelector('[data-testid=api-key-row], [data-testid=empty]');
}

/** "YYYY-MM-DD", `days` from today in UTC. */
function utcDay(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

describe('API keys', () => {
  test('a read-only key: shown once, reads (200) but cannot write (403), gone after Done, refused once revoked (401)', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    await revokeTestKeys(token);
    const name = `${PREFIX}${Date.now()}`;
    const expiry = utcDay(30);
    try {
      await openKeys(page);
      assert.equal(await page.title(), 'API keys · bulbul');
      assert.equal(await page.getAttribute('[data-testid=nav-api-keys]', 'aria-current'), 'page');
      assert.match(await page.textContent('h1'), /API keys/);
      await screenshot(page, 'api-keys');
      assert.deepEqual(await axeSerious(page), [], 'axe: api keys');

      await page.fill('[data-testid=key-name]', name);
      await page.selectOption('[data-testid=key-scope]', 'read');
      await page.fill('[data-testid=key-expiry]', expiry);
      await page.click('[data-testid=key-create]');
      const field = await page.waitForSelector('[data-testid=new-key-secret]');
      const secret = await field.inputValue();
      assert.match(secret, SECRET_RE);
      // the panel takes focus and says the key is shown this once; the secret is in the page only
      await page.waitForFunction(() => !!document.activeElement?.closest('[data-testid=new-key-panel]'));
      assert.match(await page.textContent('[data-testid=new-key-panel]'), /This is the only time the key is shown\. Store it now\./);
      assert.equal(await secretInPage(page, secret), true, 'the probe finds the secret while it is shown');
      assert.equal(await secretStored(page, secret), false, 'the secret is not in the URL or the storage');

      // the list shows the key by its prefix, never the secret
      const row = rowByName(name);
      await page.waitForSelector(row);
      assert.equal(await page.getAttribute(row, 'data-status'), 'active');
      assert.equal((await page.textContent(`${row} [data-testid=key-prefix]`)).trim(), secret.slice(0, 12));
      assert.equal((await page.textContent('[data-testid=api-keys]')).includes(secret), false);
      const listed = (await api(token, 'GET', '/coffee/api-keys')).body.find((k) => k.name === name);
      assert.ok(listed, 'the API lists the key');
      assert.equal(listed.scope, 'read');
      assert.equal(listed.status, 'active');
      assert.equal(Date.parse(listed.expires_at), Date.parse(`${expiry}T23:59:59Z`), 'expires at the end of the chosen day (UTC)');

      // Copy: to the clipboard, or the key selected with how to copy it
      await page.click('[data-testid=copy-key]');
      await until(async () => /Copied|Ctrl\+C/.test(await page.textContent('[data-testid=copy-status]')), { what: 'copy status' });
      await screenshot(page, 'api-key-created');
      assert.deepEqual(await axeSerious(page), [], 'axe: new key panel');

      // the key works from outside the browser: reading yes, writing no (read-only)
      const read = await apiWithKey(secret, 'GET', '/coffee/collections');
      assert.equal(read.status, 200, JSON.stringify(read.body));
      const write = await apiWithKey(secret, 'POST', '/coffee/collections', { name: `${name} write`, description: '' });
      if (write.status === 201) await api(token, 'DELETE', `/coffee/collections/${write.body.id}`);
      assert.equal(write.status, 403, JSON.stringify(write.body));

      // Done: the secret leaves the page, focus goes back to the form
      await page.click('[data-testid=new-key-done]');
      await page.waitForSelector('[data-testid=new-key-panel]', { state: 'detached' });
      assert.equal(await secretInPage(page, secret), false, 'the secret is gone from the page after Done');
      assert.equal(await secretStored(page, secret), false);
      await page.waitForFunction(() => document.activeElement?.id === 'k-name'); // focus back on the form (after the effect)
      assert.deepEqual(await axeSerious(page), [], 'axe: api keys with the table filled');

      // revoke through the UI, confirmed inline
      await page.click(`${row} [data-testid=revoke-key]`);
      assert.ok((await page.textContent(`${row} .confirm`)).includes(`Revoke “${name}”?`));
      await page.click(`${row} [data-testid=confirm-revoke]`);
      const note = await page.waitForSelector('[data-testid=revoke-note]');
      // 204: every gateway was told at once; 202: they learn within seconds (the page says so)
      const propagated = (await note.getAttribute('data-propagated')) === 'true';
      const refused = await until(
        async () => {
          const r = await apiWithKey(secret, 'GET', '/coffee/collections');
          return r.status === 401 ? r : null;
        },
        { timeout: propagated ? 2_000 : 15_000, interval: 100, what: 'the revoked key refused (401)' },
      );
      assert.match(String(refused.body?.detail), /revoked/i);
      await page.waitForSelector(rowByName(name, '[data-status=revoked]'));
      assert.equal(await page.$(`${row} [data-testid=revoke-key]`), null, 'a revoked key has no actions');
      assert.deepEqual(page.errors, []);
    } finally {
      await revokeTestKeys(token, name);
      await context.close();
    }
  });

  test('rotate: a new secret with the same name; the old key keeps working until it is revoked', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page);
    const token = await tokenOf(page);
    const name = `${PREFIX}${Date.now()} rotate`;
    const made = await api(token, 'POST', '/coffee/api-keys', { name, scope: 'read' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const old = made.body;
    try {
      await openKeys(page);
      const oldRow = `[data-testid=api-key-row][data-key-id="${old.key.id}"]`;
      await page.waitForSelector(oldRow);
      await page.click(`${oldRow} [data-testid=rotate-key]`);
      const field = await page.waitForSelector('[data-testid=new-key-secret]');
      const fresh = await field.inputValue();
      assert.match(fresh, SECRET_RE);
      assert.notEqual(fresh, old.secret);
      assert.match(await page.textContent('[data-testid=new-key-panel]'), /keeps working until you revoke it/);
      const newId = Number(await page.getAttribute('[data-testid=new-key-panel]', 'data-key-id'));
      const newRow = `[data-testid=api-key-row][data-key-id="${newId}"]`;
      await page.waitForSelector(newRow);
      assert.equal((await page.textContent(`${newRow} [data-testid=key-prefix]`)).trim(), fresh.slice(0, 12));
      assert.ok((await page.textContent(newRow)).includes(`replaces ${old.key.prefix}`));
      const k = (await api(token, 'GET', '/coffee/api-keys')).body.find((x) => x.id === newId);
      assert.equal(k.name, name);
      assert.equal(k.scope, 'read');
      assert.equal(k.rotated_from, old.key.id);
      // both work
      assert.equal((await apiWithKey(old.secret, 'GET', '/coffee/collections')).status, 200);
      assert.equal((await apiWithKey(fresh, 'GET', '/coffee/collections')).status, 200);

      await page.click('[data-testid=new-key-done]');
      await page.waitForSelector('[data-testid=new-key-panel]', { state: 'detached' });
      assert.equal(await secretInPage(page, fresh), false);
      await page.waitForFunction((id) => document.activeElement?.closest('[data-testid=api-key-row]')?.dataset.keyId === String(id) && document.activeElement.dataset.testid === 'rotate-key', old.key.id); // focus back on Rotate

      // revoking the old key leaves the new one working
      await page.click(`${oldRow} [data-testid=revoke-key]`);
      await page.click(`${oldRow} [data-testid=confirm-revoke]`);
      await page.waitForSelector(`${oldRow}[data-status=revoked]`);
      await until(async () => (await apiWithKey(old.secret, 'GET', '/coffee/collections')).status === 401, {
        timeout: 15_000,
        interval: 200,
        what: 'the old key refused',
      });
      assert.equal((await apiWithKey(fresh, 'GET', '/coffee/collections')).status, 200);
      assert.deepEqual(page.errors, []);
    } finally {
      await revokeTestKeys(token, name);
      await context.close();
    }
  });

  test('no horizontal scroll at 390 px', async () => {
    const { context, page } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await uiLogin(page);
    await page.goto(url('/api-keys'));
    await page.waitForSelector('[data-testid=api-key-row], [data-testid=empty]');
    await page.waitForFunction(() => !document.querySelector('.skeleton-row'));
    await screenshot(page, 'mobile-api-keys');
    const over = await horizontalOverflow(page);
    assert.ok(over <= 0, `${over}px of horizontal scroll at 390 px`);
    const clipped = await page.$$eval('.table-wrap', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
    assert.equal(clipped, 0, 'the keys table needs sideways scrolling at 390 px');
    assert.deepEqual(await axeSerious(page), [], 'axe at 390 px: /api-keys');
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  test('FREE partner: creating a key is refused with the plan named (402)', async () => {
    const { context, page } = await newPage(browser);
    await uiLogin(page, cfg.freeEmail);
    const token = await tokenOf(page);
    const before = await api(token, 'GET', '/coffee/api-keys');
    assert.equal(before.status, 200, 'every plan may list its keys');
    await openKeys(page);
    assert.deepEqual(await axeSerious(page), [], 'axe: api keys (FREE)');
    await page.fill('[data-testid=key-name]', `${PREFIX}${Date.now()} free`);
    await page.click('[data-testid=key-create]');
    const err = await page.waitForSelector('[data-testid=create-key] [data-testid=inline-error]');
    const text = await err.textContent();
    assert.match(text, /FREE/);
    assert.match(text, /SAAS or PAID/);
    assert.equal(await page.$('[data-testid=new-key-panel]'), null, 'no secret shown');
    const after = await api(token, 'GET', '/coffee/api-keys');
    assert.equal(after.body.length, before.body.length, 'no key was created');
    await screenshot(page, 'api-keys-free');
    assert.deepEqual(await axeSerious(page), [], 'axe: api keys 402');
    assert.deepEqual(page.errors, []);
    await context.close();
  });
});
