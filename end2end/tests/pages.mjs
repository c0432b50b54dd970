// Shared by the phone layout and accessibility journeys: a paydesk with something on every
// page, the list of every page each role can reach, and the checks run on each of them
// (sideways scrolling with the culprit named, axe-core's serious and critical violations).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey, createOrder, paidOrder, setTwoFaPolicy } from './support.mjs';

const require = createRequire(import.meta.url);
/** axe-core from npm (end2end/package.json), injected into each page as a script. */
export const AXE_PATH = require.resolve('axe-core/axe.min.js');

export const PASSWORDS = { support: 'olga-password-1', merchant: 'mara-password-1' };
export const USERS = { support: 'olga', merchant: 'mara' };

/**
 * Fills a fresh paydesk: payments in two currencies (one of ¥1,234,567.89, so grouping and
 * the overview's cards are tried with a long figure), a partial refund, a refund awaiting
 * approval, a pending checkout, undeliverable merchant notifications, a support and a
 * merchant user, and live Stripe and WeChat Pay channels (their edit pages have the
 * rotation panels). Returns the order numbers the page list needs.
 */
export async function seed(app, browser) {
  // Live channels make two-step sign-in the default for admins: not what these suites test.
  await setTwoFaPolicy(browser, app, '');
  await app.cli(['channel', 'limit', 'alipay-sandbox', '--currency', 'CNY', '--max', '5000000.00', '--confirm-above', '4000000.00']);
  const apiKey = await createApiKey(app);
  const paid = await paidOrder(app, apiKey, { amount: 12_800, notifyUrl: 'https://shop.invalid/paydesk?token=secret-token' });
  await paidOrder(app, apiKey, { amount: 123_456_789, subject: '整套茶具 Tea set, the large one' });
  await paidOrder(app, apiKey, { amount: 4_500, channel: 'wechatpay-sandbox', subject: 'Jasmine tea, 2 × 250 g' });
  await paidOrder(app, apiKey, { amount: 1_999, channel: 'stripe-sandbox', currency: 'USD', subject: 'Gift card' });
  await refund(app, apiKey, paid, 300, 'one cup was cracked');
  // A key whose refunds wait for a person: one refund awaiting approval.
  const approvalKey = await createApiKey(app, 'kiosk');
  await app.cli(['apikey', 'refund-policy', 'kiosk', 'approval']);
  const kioskPaid = await paidOrder(app, approvalKey, { amount: 6_600, subject: 'Puer cake' });
  await refund(app, approvalKey, kioskPaid, 600, 'wrong cake', 202);
  const pending = (await createOrder(app, apiKey, { amount: 880, channel: 'wechatpay-sandbox', subject: 'Latte' })).out_trade_no;
  await app.addUser(USERS.support, 'support', PASSWORDS.support);
  await app.addUser(USERS.merchant, 'merchant', PASSWORDS.merchant);
  await addLiveChannels(app);
  // A merchant sees only their own orders: one paid and one pending checkout of theirs.
  const merchant = {
    paid: await merchantCheckout(app, browser, '88.00', true),
    pending: await merchantCheckout(app, browser, '12.50', false),
  };
  return { paid, pending, merchant };
}

/** A checkout made by the merchant user on the checkout page, paid on the sandbox wallet
 *  if `pay`; returns its order number. */
async function merchantCheckout(app, browser, amount, pay) {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signInAs(page, app, 'merchant');
  await page.goto(`${app.base}/checkout`);
  await page.check('#channel-alipay-sandbox');
  await page.fill('#amount', amount);
  await page.fill('#subject', '乌龙茶 Oolong');
  await page.click('#checkout-form button[type=submit]');
  await page.waitForURL(/\/checkout\/[A-Za-z0-9_-]+$/);
  await page.waitForSelector('figure.qr svg');
  const no = new URL(page.url()).pathname.split('/').pop();
  if (pay) {
    const qr = await page.getAttribute('figure.qr', 'data-qr-content');
    const res = await page.request.post(`${qr}/pay`, { headers: { Origin: app.base }, maxRedirects: 0 });
    assert.equal(res.status(), 303, 'the sandbox wallet takes the payment');
    await page.waitForSelector('#checkout-state.paid', { timeout: 10_000 });
  }
  await context.close();
  return no;
}

async function refund(app, apiKey, order, amount, reason, ...okStatuses) {
  const res = await fetch(`${app.base}/api/v1/orders/${order}/refunds`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ amount, reason }),
  });
  const ok = okStatuses.length ? okStatuses : [201];
  assert.ok([201, ...ok].includes(res.status), `refund: ${res.status} ${await res.text()}`);
}

async function addLiveChannels(app) {
  const files = {};
  for (const provider of ['stripe', 'wechatpay']) {
    const dir = mkdtempSync(join(tmpdir(), `paydesk-keys-${provider}-`));
    await app.cli(['channel', 'sandbox-keys', provider, '--out', dir]);
    files[provider] = { dir, read: (f) => readFileSync(join(dir, f), 'utf8').trim() };
  }
  const s = files.stripe;
  await app.cli(['channel', 'add', 'shop-stripe', '--provider', 'stripe', '--gateway', `${app.base}/sandbox/stripe`,
    '--secret-key-file', join(s.dir, 'secret_key.txt'), '--webhook-secret-file', join(s.dir, 'webhook_secret.txt')]);
  const w = files.wechatpay;
  await app.cli(['channel', 'add', 'shop-wechat', '--provider', 'wechatpay', '--gateway', `${app.base}/sandbox/wechatpay`,
    '--mchid', w.read('mchid.txt'), '--appid', w.read('appid.txt'), '--serial', w.read('merchant_serial.txt'),
    '--private-key', join(w.dir, 'merchant_private_key.pem'), '--apiv3-key-file', join(w.dir, 'apiv3_key.txt'),
    '--public-key-id', w.read('public_key_id.txt'), '--public-key', join(w.dir, 'public_key.pem')]);
}

/**
 * Every page a role reaches: each navigation entry, and the pages one click further
 * (an order, its receipt, a tab, a form). `ready` shows the page has loaded.
 */
export function pagesFor(role, orders) {
  const { paid, pending } = role === 'merchant' ? orders.merchant : orders;
  const checkout = role !== 'support';
  const pages = [
    { name: 'overview', path: '/', ready: '#overview' },
    ...(checkout ? [
      { name: 'till', path: '/till', ready: '#till-form' },
      { name: 'checkout', path: '/checkout', ready: '#checkout-form' },
      { name: 'checkout-qr', path: `/checkout/${pending}`, ready: 'figure.qr svg' },
      { name: 'display', path: '/display', ready: '#display-state' },
      { name: 'receipt', path: `/receipt/${paid}`, ready: '#receipt' },
    ] : []),
    { name: 'orders', path: '/orders', ready: '#orders-table' },
    { name: 'order-detail', path: `/orders/${paid}`, ready: '#timeline' },
    ...(role !== 'merchant' ? [
      { name: 'refunds', path: '/refunds', ready: '#refunds-table' },
      { name: 'refunds-awaiting', path: '/refunds?status=awaiting', ready: '#awaiting-table' },
      { name: 'logs-inbox', path: '/logs', ready: '#inbox-table' },
      { name: 'logs-calls', path: '/logs?tab=calls', ready: '#calls-table' },
      { name: 'logs-notifications', path: '/logs?tab=notifications', ready: '#notifications-table' },
    ] : []),
    ...(role === 'admin' ? [
      { name: 'logs-audit', path: '/logs?tab=audit', ready: '#audit-table' },
      { name: 'credentials', path: '/credentials', ready: '#channels-table' },
      { name: 'credentials-new-alipay', path: '/credentials?add=alipay', ready: '#channel-form' },
      { name: 'credentials-new-wechatpay', path: '/credentials?add=wechatpay', ready: '#channel-form' },
      { name: 'credentials-new-stripe', path: '/credentials?add=stripe', ready: '#channel-form' },
      { name: 'credentials-edit-rotate-wechatpay', path: '/credentials?edit=shop-wechat', ready: '#rotate-merchant' },
      { name: 'credentials-edit-rotate-stripe', path: '/credentials?edit=shop-stripe', ready: '#rotate-webhook' },
      { name: 'credentials-limits', path: '/credentials?limits=alipay-sandbox', ready: '#amount-limits' },
      { name: 'users', path: '/users', ready: '#users-table' },
      { name: 'security', path: '/security', ready: '#twofa-policy-form' },
    ] : []),
    { name: 'sessions', path: '/sessions', ready: '#sessions-table' },
    { name: 'account-2fa', path: '/account/2fa', ready: '#twofa-status' },
  ];
  return pages.map((p) => ({ ...p, name: `${role}/${p.name}` }));
}

/** The role's navigation entries that `pages` does not visit (should be none). */
export async function unvisitedNav(page, pages) {
  const hrefs = await page.$$eval('.sidenav a, .topbar a', (as) => as.map((a) => a.getAttribute('href')));
  return hrefs.filter((h) => !pages.some((p) => p.path === h));
}

/** Signs in through the form (a fresh context per role). */
export async function signInAs(page, app, role) {
  const [user, password] = role === 'admin' ? ['admin', app.password] : [USERS[role], PASSWORDS[role]];
  await page.goto(`${app.base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('.login-card button[type=submit]');
  await page.waitForURL((u) => u.pathname === '/');
  // The fixture's orders are sandbox (test) data and it has live channels, so a user who
  // has not chosen sees live data: switch to test data to see the orders.
  if (!(await page.$('#test-banner')) && (await page.$('#test-mode-toggle'))) {
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('#test-mode-toggle')]);
    await page.waitForSelector('#test-banner');
  }
}

/**
 * Why the page scrolls sideways, or null: the page and its width, then the elements that
 * reach the document's right edge (their box or their content), deepest first — usually
 * the cause — then the widest.
 */
export async function sidewaysScroll(page, what) {
  const found = await page.evaluate(() => {
    const vw = window.innerWidth;
    const sw = document.documentElement.scrollWidth;
    if (sw <= vw) return null;
    const reach = (el) => { const r = el.getBoundingClientRect(); return Math.max(r.right, r.left + el.scrollWidth); };
    const describe = (el) => {
      const id = el.id ? `#${el.id}` : '';
      const cls = [...el.classList].slice(0, 3).map((c) => `.${c}`).join('');
      const r = el.getBoundingClientRect();
      const text = el.textContent.trim().replace(/\s+/g, ' ').slice(0, 40);
      return `<${el.tagName.toLowerCase()}${id}${cls}> ${Math.round(r.width)}px wide, reaching ${Math.round(reach(el))}px ("${text}")`;
    };
    const culprits = [...document.body.querySelectorAll('*')]
      .filter((el) => el.getClientRects().length && reach(el) >= sw - 1);
    const deepest = culprits.filter((el) => !culprits.some((o) => o !== el && el.contains(o)));
    const widest = [...culprits].sort((a, b) => b.getBoundingClientRect().width - a.getBoundingClientRect().width);
    return { sw, vw, deepest: deepest.slice(0, 3).map(describe), widest: widest.slice(0, 2).map(describe) };
  });
  if (!found) return null;
  return `${what}: the page is ${found.sw}px wide at ${found.vw}px; deepest: ${found.deepest.join('; ')}; widest: ${found.widest.join('; ')}`;
}

/** Fails when the page scrolls sideways (see [sidewaysScroll]). */
export async function assertNoSidewaysScroll(page, what) {
  const problem = await sidewaysScroll(page, what);
  assert.equal(problem, null, problem ?? '');
}

/** Tables that scroll inside their box at this width (their right part cut off). */
export async function cutOffTables(page) {
  return page.$$eval('.table-wrap', (wraps) => wraps
    .filter((w) => w.scrollWidth > w.clientWidth + 1)
    .map((w) => `${w.querySelector('table')?.id || 'table'}: ${w.scrollWidth}px in ${w.clientWidth}px`));
}

/** axe-core's serious and critical violations on the page, one line each. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: AXE_PATH });
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => ({
        id: v.id, impact: v.impact, target: n.target.join(' '),
        summary: (n.failureSummary || v.help).replace(/\s+/g, ' ').slice(0, 300),
      })));
  });
  return violations.map((v) => `[${v.impact}] ${v.id} at ${v.target}: ${v.summary}`);
}
