// A support user finds a paid order by its number, refunds part of it through the
// confirmation step, and sees the refund in the order's timeline and in the refunds list —
// once with JavaScript (the refund card is an island: it checks the amount as it is typed and
// confirms in place, without a page load) and once without (GET filters, plain form posts).
// Screenshots of the orders list, order detail, refund confirmation and refunds list in
// English and Chinese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts, signIn, createApiKey, paidOrder } from './support.mjs';

let app;
let browser;
let apiKey;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  await app.addUser('s1', 'support', 's1-password-123');
  apiKey = await createApiKey(app);
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

async function setLang(page, lang) {
  await page.click(`.lang-switch button[value=${lang}]`);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang === 'zh' ? 'zh-CN' : 'en');
}

/** Screenshots the current page in English, then in Chinese, and comes back in English.
 * The language switch returns to the path only, so the page is reopened with its query. */
async function shots(page, name, mode, selector) {
  const url = page.url();
  await page.screenshot({ path: join(artifacts, `${name}-en-${mode}.png`), fullPage: true });
  await setLang(page, 'zh');
  await page.goto(url);
  await page.waitForSelector(selector);
  await page.screenshot({ path: join(artifacts, `${name}-zh-${mode}.png`), fullPage: true });
  const zh = await page.textContent('main');
  await setLang(page, 'en');
  await page.goto(url);
  await page.waitForSelector(selector);
  return zh;
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`support finds a paid order, refunds part of it and sees it everywhere (${mode})`, async () => {
    const no = await paidOrder(app, apiKey, { amount: 1000 });
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 's1', 's1-password-123', '/orders');
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // Find it by number with the GET filter form.
    await page.waitForSelector('#orders-filters');
    await page.fill('#f-q', no);
    await page.click('#orders-search');
    await page.waitForURL((u) => u.searchParams.get('q') === no);
    await page.waitForSelector('#orders-table');
    const rows = await page.$$('#orders-table tbody tr');
    assert.equal(rows.length, 1, 'exactly the order searched for');
    assert.match(await page.textContent('#orders-table'), /Paid/);
    assert.match(await page.textContent('#orders-table'), /¥10\.00 CNY/);
    assert.match(await page.getAttribute('#orders-export', 'href'), new RegExp(`/export/orders\\.csv\\?q=${no}`));
    assert.match(await shots(page, 'orders-list', mode, '#orders-table'), /已支付/);

    // Open it.
    await page.click(`#orders-table a[href="/orders/${no}"]`);
    await page.waitForSelector('#order-number');
    assert.equal((await page.textContent('#order-number')).trim(), no);
    assert.match(await page.textContent('#amount-refundable'), /¥10\.00 CNY/);
    assert.match(await page.textContent('#timeline'), /Paid/);
    await shots(page, 'order-detail', mode, '#timeline');

    // Step 1: amount and reason, then the confirmation with what will remain.
    if (javaScriptEnabled) {
      // Enhanced in place: what stays refundable is shown as the amount is typed, and the
      // page is never reloaded (the marker survives every step).
      await page.evaluate(() => { window.__marker = 'same page'; });
      await page.fill('#refund-amount', '30');
      await page.waitForSelector('#refund-live >> text=/more than is left to refund/');
      await page.fill('#refund-amount', '3.50');
      await page.waitForSelector('#refund-live >> text=/¥6\.50 CNY will remain refundable/');
    } else {
      await page.fill('#refund-amount', '3.50');
      assert.equal((await page.textContent('#refund-live')).trim(), '', 'no live line without JavaScript');
    }
    await page.fill('#refund-reason', 'broken cup');
    await page.click('#refund-review');
    await page.waitForSelector('#refund-confirm');
    assert.match(await page.textContent('#remaining-after'), /¥6\.50 CNY/);
    if (javaScriptEnabled) {
      assert.equal(new URL(page.url()).searchParams.get('refund'), null, 'reviewed without a page load');
      // Cancel goes back to the form with what was typed.
      await page.click('#refund-cancel');
      await page.waitForSelector('#refund-form');
      assert.equal(await page.inputValue('#refund-amount'), '3.50');
      assert.equal(await page.inputValue('#refund-reason'), 'broken cup');
      await page.click('#refund-review');
      await page.waitForSelector('#refund-confirm');
      await page.screenshot({ path: join(artifacts, `refund-confirm-en-${mode}.png`), fullPage: true });
    } else {
      assert.equal(new URL(page.url()).searchParams.get('refund'), '3.50', 'the form is a GET');
      assert.match(await shots(page, 'refund-confirm', mode, '#refund-confirm'), /剩余可退金额/);
    }

    if (javaScriptEnabled) {
      assert.equal(await page.evaluate(() => window.__marker), 'same page', 'reviewed in place, no page load');
    }

    // Step 2: refund (a form post in both modes); back on the order with the outcome.
    await page.waitForSelector('#refund-confirm-button');
    await page.click('#refund-confirm-button');
    await page.waitForURL((u) => u.searchParams.has('ok') || u.searchParams.has('error'));
    await page.waitForSelector('#outcome-ok');
    assert.equal(new URL(page.url()).searchParams.get('ok'), 'refund_succeeded');
    await page.waitForSelector('#order-refunds');
    assert.match(await page.textContent('#order-refunds'), /¥3\.50 CNY/);
    assert.match(await page.textContent('#order-refunds'), /broken cup/);
    assert.match(await page.textContent('#amount-refundable'), /¥6\.50 CNY/);
    assert.match(await page.textContent('#order-status'), /Partially refunded/);
    const timeline = await page.textContent('#timeline');
    assert.match(timeline, /Refund requested/);
    assert.match(timeline, /user s1/);
    // A story: created, paid, the refund requested before it succeeded, one sentence each;
    // the provider calls under the step that made them, collapsed (native <details>).
    const kinds = await page.$$eval('#timeline > li', (items) => items.map((li) => li.dataset.kind || li.className));
    assert.deepEqual(kinds.slice(0, 2), ['created', 'paid'], kinds.join());
    assert.ok(kinds.indexOf('refund_requested') > 1, kinds.join());
    assert.ok(kinds.indexOf('refund_requested') < kinds.indexOf('refund_succeeded'), kinds.join());
    const requested = '#timeline > li[data-kind=refund_requested]';
    assert.match(await page.textContent(`${requested} .tl-what`), /^Refund requested by user s1: ¥3\.50 CNY \(RF\w+\), reason: broken cup\.$/);
    const open = await page.$$eval('#timeline details.tl-calls', (all) => all.map((d) => d.open));
    assert.ok(open.length >= 2 && open.every((o) => !o), 'provider calls collapsed by default');
    assert.equal(await page.isVisible(`${requested} details.tl-calls li`), false);
    await page.click(`${requested} details.tl-calls summary`);
    assert.match(await page.textContent(`${requested} details.tl-calls`), /1 provider call[\s\S]*refund/);
    assert.match(await shots(page, 'order-refunded', mode, '#timeline'), /申请退款/);

    // An over-refund is explained, not attempted.
    await page.fill('#refund-amount', '7.00');
    await page.click('#refund-review');
    await page.waitForSelector('#refund-problem');
    assert.match(await page.textContent('#refund-problem'), /more than is left to refund/);

    // The refunds list.
    await page.goto(`${app.base}/refunds`);
    await page.waitForSelector('#refunds-table');
    assert.match(await page.textContent('#refunds-table'), new RegExp(no));
    assert.match(await page.textContent('#refunds-table'), /Succeeded/);
    await page.click('#refund-tabs a[data-status=failed]');
    await page.waitForURL((u) => u.searchParams.get('status') === 'failed');
    await page.waitForSelector('#refunds-empty');
    await page.click('#refund-tabs a[data-status=""]');
    await page.waitForSelector('#refunds-table');
    assert.match(await shots(page, 'refunds-list', mode, '#refunds-table'), /退款成功/);

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });
}
