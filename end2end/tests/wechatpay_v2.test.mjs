// The fourth provider in the browser: a merchant charges through the WeChat Pay API v2
// sandbox channel, the customer pays in the wallet, and the checkout page turns to paid (the
// v2 XML notification, verified with the API key). Then support refunds part of it: the
// refund goes to the v2 sandbox over mutual TLS and is settled by its refund query.
// JavaScript on and off; en and zh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, signIn, artifacts } from './support.mjs';

let app;
let browser;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  await app.addUser('m2', 'merchant', 'merchant-password-2');
  await app.addUser('s2', 'support', 'support-password-2');
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`a WeChat Pay v2 sandbox payment and refund (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page, { javaScriptEnabled });
    await signIn(page, app.base, 'm2', 'merchant-password-2', '/checkout');
    await page.waitForSelector('#checkout-form');
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');
    assert.match(await page.textContent('#checkout-form'), /WeChat Pay \(API v2\)/);
    await page.check('#channel-wechatpay-v2-sandbox');
    await page.fill('#amount', '8.80');
    await page.fill('#subject', 'Pu-erh');
    await page.click('#checkout-form button[type=submit]');
    await page.waitForURL(/\/checkout\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('figure.qr svg');
    const no = new URL(page.url()).pathname.split('/').pop();
    assert.match(await page.textContent('#checkout-status'), /¥8\.80 CNY/);
    const qr = await page.getAttribute('figure.qr', 'data-qr-content');
    assert.match(qr, /\/sandbox\/pay\//);

    const wallet = await context.newPage();
    await wallet.goto(qr);
    assert.match(await wallet.textContent('body'), /WeChat Pay \(API v2\)/);
    await wallet.click('form[action$="/pay"] button');
    await wallet.waitForSelector('text=/Paid/');
    await wallet.close();
    await page.waitForSelector('#checkout-state.paid', { timeout: 5_000 });
    await page.screenshot({ path: join(artifacts, `wechatpay-v2-paid-en-${mode}.png`), fullPage: true });
    assert.deepEqual(problems, [], 'no page or console errors');

    // Support refunds 3.00 of it; the order page shows the refund settle.
    const sctx = await browser.newContext({ javaScriptEnabled, locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    const s = await sctx.newPage();
    await signIn(s, app.base, 's2', 'support-password-2', `/orders/${no}?refund=3.00&reason=broken`);
    await s.waitForSelector('#refund-confirm-button');
    await s.click('#refund-confirm-button');
    await s.waitForSelector('#order-refunds');
    // v2 accepts a refund and settles it later: the refund query runs within ~10 s.
    let text = '';
    for (let i = 0; i < 30; i++) {
      await s.goto(`${app.base}/orders/${no}`);
      text = await s.textContent('#order-refunds');
      if (/退款成功|Succeeded/.test(text)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.match(text, /退款成功|Succeeded/, text);
    assert.match(await s.textContent('#order-refunds'), /¥3\.00 CNY/);
    await s.screenshot({ path: join(artifacts, `wechatpay-v2-refunded-zh-${mode}.png`), fullPage: true });
    await sctx.close();
    await context.close();
  });
}
