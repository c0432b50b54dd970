// Every page on a 768 px tablet and a 1440 px screen, in English and Chinese, light and
// dark: screenshots for people to look at (end2end/test-results/layout-*.png), and checks
// that do not need a person — the page never scrolls sideways (wide tables scroll inside
// their own box), every form field has a label, every button and link has a name, the
// primary actions are reachable with Tab, axe-core finds no serious or critical problem,
// and the browser console stays clean (no hydration warnings, no missing resources).
// Phones (390 px, every page of every role): layout_phone.test.mjs.
//
// Each width is shot in both themes, each language at each width, and each language in
// both themes: four combinations of every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  startPaydesk, launchBrowser, watchConsole, artifacts, createApiKey, createOrder, paidOrder,
} from './support.mjs';
import { axeViolations } from './pages.mjs';

let app;
let browser;
let paid;
let pending;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  // Something on every page: payments in two currencies, a partial refund, a pending
  // checkout, provider calls and notifications, and merchant notifications that cannot
  // be delivered (the `.invalid` domain never resolves).
  const apiKey = await createApiKey(app);
  paid = await paidOrder(app, apiKey, { amount: 12_800, notifyUrl: 'https://shop.invalid/paydesk?token=secret-token' });
  await paidOrder(app, apiKey, { amount: 4_500, channel: 'wechatpay-sandbox', subject: 'Jasmine tea, 2 × 250 g' });
  await paidOrder(app, apiKey, { amount: 1_999, channel: 'stripe-sandbox', currency: 'USD', subject: 'Gift card' });
  const refund = await fetch(`${app.base}/api/v1/orders/${paid}/refunds`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ amount: 300, reason: 'one cup was cracked' }),
  });
  assert.equal(refund.status, 201, await refund.clone().text());
  pending = (await createOrder(app, apiKey, { amount: 880, channel: 'wechatpay-sandbox', subject: 'Latte' })).out_trade_no;
  await app.addUser('olga', 'support', 'olga-password-1');
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

/** Every page: where it is, what shows it has loaded, and its primary actions. */
const PAGES = [
  { name: 'overview', path: () => '/', ready: '#channel-figures', actions: ['.sidenav a[href="/orders"]', '.theme-switch button[value=dark]'] },
  { name: 'checkout', path: () => '/checkout', ready: '#checkout-form', actions: ['#amount', '#subject', '#checkout-form button[type=submit]'] },
  { name: 'checkout-qr', path: () => `/checkout/${pending}`, ready: 'figure.qr svg', actions: ['a[href$="/qr.png"]'] },
  { name: 'orders', path: () => '/orders', ready: '#orders-table', actions: ['#f-q', '#orders-search'] },
  { name: 'order-detail', path: () => `/orders/${paid}`, ready: '#timeline', actions: ['#sync-now', '#refund-amount', '#refund-review'] },
  { name: 'refunds', path: () => '/refunds', ready: '#refunds-table', actions: ['#refund-tabs a[data-status=failed]'] },
  { name: 'logs-inbox', path: () => '/logs?tab=inbox', ready: '#inbox-table', actions: ['#f-provider', '#inbox-filters button[type=submit]'] },
  { name: 'logs-calls', path: () => '/logs?tab=calls', ready: '#calls-table', actions: ['#f-failed', '#calls-filters button[type=submit]'] },
  { name: 'logs-notifications', path: () => '/logs?tab=notifications', ready: '#notifications-table', actions: ['#f-status', '#notifications-table button'] },
  { name: 'logs-audit', path: () => '/logs?tab=audit', ready: '#audit-table', actions: ['#f-actor', '#audit-filters button[type=submit]'] },
  { name: 'credentials', path: () => '/credentials', ready: '#channels-table', actions: ['#channels-table button', '#add-channel a'] },
  { name: 'users', path: () => '/users', ready: '#users-table', actions: ['#new-username', '#add-user button[type=submit]', '#key-name'] },
];

const COMBINATIONS = [
  { width: 768, height: 1024, lang: 'en', theme: 'light' },
  { width: 768, height: 1024, lang: 'zh', theme: 'dark' },
  { width: 1440, height: 900, lang: 'en', theme: 'dark' },
  { width: 1440, height: 900, lang: 'zh', theme: 'light' },
];

/** Problems a person should not have to find on a screenshot. */
async function check(page, { width, lang, theme }, what) {
  const found = await page.evaluate(() => {
    const visible = (el) => el.getClientRects().length > 0;
    const named = (el) => el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    return {
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      lang: document.documentElement.lang,
      theme: document.documentElement.dataset.theme,
      unlabelled: [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => el.type !== 'hidden' && visible(el) && !el.labels?.length && !named(el))
        .map((el) => el.outerHTML.slice(0, 100)),
      nameless: [...document.querySelectorAll('button, a[href]')]
        .filter((el) => visible(el) && !el.textContent.trim() && !named(el) && !el.title)
        .map((el) => el.outerHTML.slice(0, 100)),
    };
  });
  assert.ok(found.overflow <= 0, `${what}: the page scrolls sideways by ${found.overflow}px at ${width}px`);
  assert.equal(found.lang, lang === 'zh' ? 'zh-CN' : 'en', `${what}: language`);
  assert.equal(found.theme, theme, `${what}: theme`);
  assert.deepEqual(found.unlabelled, [], `${what}: form fields without a label`);
  assert.deepEqual(found.nameless, [], `${what}: buttons and links without a name`);
  const axe = await axeViolations(page);
  assert.deepEqual(axe, [], `${what} at ${width}px, ${lang}, ${theme}: axe-core's serious or critical violations:\n${axe.join('\n')}`);
}

/** Presses Tab from the top of the page until each of `selectors` had the focus. */
async function assertTabReaches(page, selectors, what) {
  await page.evaluate(() => { document.activeElement?.blur?.(); });
  const missing = new Set(selectors);
  for (let i = 0; i < 150 && missing.size > 0; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate(
      (sels) => sels.filter((s) => document.activeElement?.matches(s)),
      [...missing],
    );
    for (const s of hit) missing.delete(s);
  }
  assert.deepEqual([...missing], [], `${what}: not reachable with Tab`);
  // No focus ring, and tables scrolled back to their start, in the screenshot.
  await page.evaluate(() => {
    document.activeElement?.blur?.();
    for (const wrap of document.querySelectorAll('.table-wrap')) wrap.scrollLeft = 0;
    window.scrollTo(0, 0);
  });
}

for (const combo of COMBINATIONS) {
  const { width, height, lang, theme } = combo;
  const tag = `${width}-${lang}-${theme}`;

  test(`every page at ${width}px in ${lang}, ${theme} theme`, async () => {
    // bypassCSP: axe-core is injected as an inline script, which the pages' policy refuses.
    const context = await browser.newContext({ locale: 'en-US', viewport: { width, height }, bypassCSP: true });
    await context.addCookies([
      { name: 'paydesk_lang', value: lang, url: app.base },
      { name: 'paydesk_theme', value: theme, url: app.base },
    ]);
    const page = await context.newPage();
    const problems = watchConsole(page);
    const tabs = width === 768 && theme === 'light';

    // Signed out: the sign-in page.
    await page.goto(`${app.base}/login`);
    await page.waitForSelector('#username');
    await page.waitForLoadState('networkidle');
    await check(page, combo, 'login');
    if (tabs) await assertTabReaches(page, ['#password', '.login-card button[type=submit]', '.theme-switch button[value=dark]'], 'login');
    await page.screenshot({ path: join(artifacts, `layout-login-${tag}.png`), fullPage: true });
    await page.fill('#username', 'admin');
    await page.fill('#password', app.password);
    await page.click('.login-card button[type=submit]');
    await page.waitForURL((u) => u.pathname === '/');

    for (const p of PAGES) {
      await page.goto(`${app.base}${p.path()}`);
      await page.waitForSelector(p.ready);
      await page.waitForLoadState('networkidle');
      await check(page, combo, p.name);
      if (tabs) await assertTabReaches(page, p.actions, p.name);
      if (tabs) {
        // The first Tab of every signed-in page is the skip link, and it leads to the content.
        // (A fresh load: after blur() Chromium would go on from the blurred element.)
        await page.reload();
        await page.waitForSelector(p.ready);
        await page.keyboard.press('Tab');
        assert.ok(await page.evaluate(() => document.activeElement?.matches('a.skip-link[href="#content"]')), `${p.name}: first Tab is the skip link`);
        await page.evaluate(() => { document.activeElement?.blur?.(); });
      }
      await page.screenshot({ path: join(artifacts, `layout-${p.name}-${tag}.png`), fullPage: true });
    }

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });
}
