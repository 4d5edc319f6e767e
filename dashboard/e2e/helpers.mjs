// Shared set-up for the end-to-end tests: configuration (env only), browser, login, API calls, axe, screenshots.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const cfg = {
  baseUrl: (process.env.BASE_URL || 'http://127.0.0.1:8009').replace(/\/+$/, ''),
  artifacts: process.env.ARTIFACTS_DIR || path.join(here, 'artifacts'),
  saasEmail: process.env.SAAS_EMAIL || 'demo@bulbul.dev',
  freeEmail: process.env.FREE_EMAIL || 'free@bulbul.dev',
  password: process.env.PASSWORD || 'demo-password',
  freeQuota: Number(process.env.FREE_QUOTA || 50),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};
mkdirSync(cfg.artifacts, { recursive: true });

export const TIMEOUT = 20_000;

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function launch() {
  return chromium.launch({
    executablePath: cfg.chromium,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context+page; collects page errors so tests can assert there were none. */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...opts });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return { context, page };
}

export const url = (p) => cfg.baseUrl + p;

/** Logs in through the UI and waits for the app shell. */
export async function uiLogin(page, email = cfg.saasEmail, password = cfg.password) {
  for (let attempt = 0; ; attempt++) {
    await page.goto(url('/login'));
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('[data-testid=login-submit]');
    const el = await page.waitForSelector('[data-testid=logout], [data-testid=login-form] [data-testid=inline-error]');
    if ((await el.getAttribute('data-testid')) === 'logout') return;
    const text = await el.textContent();
    // the suite logs in often; a rate-limited login is waited out as the app says, other errors fail
    const m = /try again in (\d+) s/.exec(text);
    if (!m || attempt >= 3) throw new Error(`login as ${email} failed: ${text}`);
    await new Promise((r) => setTimeout(r, (Number(m[1]) + 0.5) * 1000));
  }
}

export async function tokenOf(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('bulbul.session') || 'null')?.token ?? null);
}

/**
 * Calls the API from Node with a bearer token. Returns { status, headers, body }. A gateway 429 (the tests' own
 * bursts) is waited out as its Retry-After says, up to 5 times; the tests never assert on those.
 */
export async function api(token, method, p, body) {
  return apiWith(token ? { authorization: `Bearer ${token}` } : {}, method, p, body);
}

/** The same as `api` with an API key in `x-api-key`. */
export async function apiWithKey(key, method, p, body) {
  return apiWith({ 'x-api-key': key }, method, p, body);
}

async function apiWith(credential, method, p, body) {
  for (let attempt = 0; ; attempt++) {
    const r = await apiOnce(credential, method, p, body);
    if (r.status !== 429 || attempt >= 5) return r;
    const wait = Number(r.headers.get('retry-after')) || 1;
    await new Promise((res) => setTimeout(res, Math.min(wait, 10) * 1000));
  }
}

async function apiOnce(credential, method, p, body) {
  const res = await fetch(url(p), {
    method,
    headers: {
      ...credential,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

export async function apiLogin(email, password = cfg.password) {
  const r = await api(null, 'POST', '/identity/login', { email, password });
  if (r.status !== 200) throw new Error(`login ${email}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(cfg.artifacts, `${name}.png`), fullPage: true });
}

/** axe-core on the current page; returns serious/critical violations (empty is good). */
export async function axeSerious(page) {
  // evaluated through the DevTools protocol, not as a <script> tag: the gateway's CSP (script-src 'self') rightly
  // blocks inline scripts, and the app is tested under that real CSP (no bypassCSP)
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Horizontal overflow of the document in CSS px (0 means no horizontal scroll). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Waits until a chart has drawn (or is the empty state) and returns its data. */
export async function chartData(page, selector = '[data-testid=chart][data-metric=followers]') {
  await page.waitForSelector(`${selector}[data-ready=true]`);
  return page.$eval(selector, (el) => el.__chartData);
}

export const isoToX = (d) => Date.parse(d + 'T00:00:00Z') / 1000;

/** Polls fn until it returns a truthy value (or throws after timeout). */
export async function until(fn, { timeout = TIMEOUT, interval = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
