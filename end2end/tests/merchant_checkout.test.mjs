// A merchant creates a sandbox WeChat Pay checkout, the customer opens the QR code's
// wallet URL in a second page and pays, and the checkout page shows "paid" by itself:
// with JavaScript by polling, without JavaScript by its <noscript> meta refresh.
// Also: a refused amount comes back with a clear message and the input kept, and the
// overview shows the payment; an amount above the channel's "large amount" asks
// "Yes, charge …" before the QR code is made. Screenshots in en and zh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, signIn, artifacts } from './support.mjs';

let app;
let browser;
const PASSWORD = 'merchant-password-1';

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  await app.addUser('m1', 'merchant', PASSWORD);
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

async function setLang(page, lang) {
  await page.click(`.lang-switch button[value=${lang}]`);
  await page.waitForSelector(`html[lang="${lang === 'zh' ? 'zh-CN' : 'en'}"]`);
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`merchant takes a sandbox WeChat Pay payment (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'm1', PASSWORD, '/checkout');
    await page.waitForSelector('#checkout-form');
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // A wrong amount comes back with a message and what was typed.
    await page.check('#channel-wechatpay-sandbox');
    await page.fill('#amount', '1.234');
    await page.fill('#subject', 'Latte');
    await page.click('#checkout-form button[type=submit]');
    await page.waitForSelector('#checkout-error');
    assert.match(await page.textContent('#checkout-error'), /CNY allows at most 2 decimals/);
    assert.equal(await page.inputValue('#amount'), '1.234');
    assert.equal(await page.inputValue('#subject'), 'Latte');
    assert.ok(await page.isChecked('#channel-wechatpay-sandbox'), 'the channel is kept');
    await page.screenshot({ path: join(artifacts, `checkout-form-error-en-${mode}.png`), fullPage: true });

    await page.fill('#amount', '12.50');
    await page.click('#checkout-form button[type=submit]');
    await page.waitForURL(/\/checkout\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('figure.qr svg');
    assert.match(await page.textContent('#checkout-status'), /¥12\.50 CNY/);
    assert.match(await page.textContent('#checkout-status'), /WeChat Pay/);
    assert.match(await page.textContent('#checkout-state'), /Pending/);
    const qr = await page.getAttribute('figure.qr', 'data-qr-content');
    assert.match(qr, /\/sandbox\/pay\//, 'the sandbox QR opens the sandbox wallet');
    if (javaScriptEnabled) {
      await page.waitForSelector('text=/Expires in \\d+:\\d\\d/');
    } else {
      assert.equal(await page.locator('noscript').count() > 0, true);
    }
    await page.screenshot({ path: join(artifacts, `checkout-qr-en-${mode}.png`), fullPage: true });

    // The PNG download answers with an image.
    const png = await page.request.get(new URL(`${new URL(page.url()).pathname}/qr.png`, app.base).href);
    assert.equal(png.status(), 200);
    assert.equal(png.headers()['content-type'], 'image/png');

    // The customer scans: the wallet opens in a second page, and they press Pay.
    const wallet = await context.newPage();
    await wallet.goto(qr);
    await wallet.click('form[action$="/pay"] button');
    await wallet.waitForSelector('text=/Paid/');
    await wallet.close();

    // The checkout page turns to paid by itself (polling, or the meta refresh).
    await page.waitForSelector('#checkout-state.paid', { timeout: 5_000 });
    assert.match(await page.textContent('#checkout-state'), /Paid/);
    assert.match(await page.textContent('.checkout-message'), /Paid\. The money has arrived/);
    await page.screenshot({ path: join(artifacts, `checkout-paid-en-${mode}.png`), fullPage: true });

    await setLang(page, 'zh');
    await page.waitForSelector('#checkout-state.paid');
    assert.match(await page.textContent('#checkout-state'), /已支付/);
    await page.screenshot({ path: join(artifacts, `checkout-paid-zh-${mode}.png`), fullPage: true });

    await page.goto(`${app.base}/checkout`);
    await page.waitForSelector('#checkout-form');
    assert.match(await page.textContent('#checkout-form'), /微信支付/);
    await page.screenshot({ path: join(artifacts, `checkout-form-zh-${mode}.png`), fullPage: true });

    // The overview counts the payment (the merchant's own orders).
    await page.goto(`${app.base}/`);
    await page.waitForSelector('#overview');
    // One payment per run of this file's tests: 12.50, then 25.00 in all.
    assert.match(await page.textContent('#overview'), /¥(12\.50|25\.00) CNY/);
    await page.waitForSelector('.chart svg rect');
    await page.screenshot({ path: join(artifacts, `overview-zh-checkout-${mode}.png`), fullPage: true });
    await setLang(page, 'en');
    await page.waitForSelector('text=Paid volume');
    await page.screenshot({ path: join(artifacts, `overview-en-checkout-${mode}.png`), fullPage: true });

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });

  test(`a large amount is confirmed before the QR code is made (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'm1', PASSWORD, '/checkout');
    await page.waitForSelector('#checkout-form');
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // Above the default ¥10,000.00: the confirmation step, nothing created yet.
    await page.check('#channel-wechatpay-sandbox');
    await page.fill('#amount', '12345.00');
    await page.fill('#subject', 'Banquet');
    await page.click('#checkout-form button[type=submit]');
    await page.waitForSelector('#checkout-confirm');
    assert.match(await page.textContent('#confirm-charge'), /Yes, charge ¥12,345\.00 CNY/);
    await page.screenshot({ path: join(artifacts, `checkout-confirm-en-${mode}.png`), fullPage: true });

    // "No, change the amount" goes back to the form with what was typed.
    await page.click('#confirm-change');
    await page.waitForSelector('#checkout-form');
    assert.equal(await page.inputValue('#amount'), '12345.00');
    await page.click('#checkout-form button[type=submit]');
    await page.waitForSelector('#checkout-confirm');

    // "Yes, charge": the QR code for exactly that amount.
    await page.click('#confirm-charge');
    await page.waitForURL(/\/checkout\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('figure.qr svg');
    assert.match(await page.textContent('#checkout-status'), /¥12,345\.00 CNY/);

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });
}
