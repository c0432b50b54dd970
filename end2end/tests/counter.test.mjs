// The counter around the till, in the browser: the till's own settings, a sale by keypad
// and QR code shown at once, the customer display following it (server-sent events with
// JavaScript, a reload every second without), the paid state, the receipt printed to PDF
// on 58 mm paper, a customer's cancel in the wallet, and a code payment whose password
// never comes, cancelled at the provider. JavaScript on and off; en and zh; tablet and
// phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, signIn, artifacts } from './support.mjs';

let app;
let browser;

before(async () => {
  // A short wait for the customer's password, so the cancelled case takes seconds.
  app = await startPaydesk({ env: { PAYDESK_CODE_WAIT_SECONDS: '10', PAYDESK_SHOP_NAME: '茶馆 Tea House' } });
  browser = await launchBrowser();
  await app.addUser('counter1', 'merchant', 'merchant-password-counter');
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

const cases = [
  { javaScriptEnabled: true, locale: 'zh-CN', viewport: { width: 768, height: 1024 }, name: 'tablet-zh-js' },
  { javaScriptEnabled: false, locale: 'en-US', viewport: { width: 390, height: 844 }, name: 'phone-en-nojs' },
];

async function payInWallet(qr) {
  const r = await fetch(`${qr}/pay`, {
    method: 'POST', redirect: 'manual',
    headers: { Origin: app.base, 'Content-Type': 'application/x-www-form-urlencoded' }, body: '',
  });
  assert.equal(r.status, 303);
}

/** No element wider than the viewport: nothing scrolls sideways. */
async function noSidewaysScroll(page) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(wide <= 1, `the page scrolls sideways by ${wide}px`);
}

for (const { javaScriptEnabled, locale, viewport, name } of cases) {
  test(`a QR sale from the till, on the customer display, with its receipt (${name})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale, viewport });
    const page = await context.newPage();
    const problems = watchConsole(page, { javaScriptEnabled });
    await signIn(page, app.base, 'counter1', 'merchant-password-counter', '/till');

    // This till's settings: the QR channel and the default note, kept on the device.
    await page.click('#till-settings summary');
    await page.selectOption('#till-channel', 'alipay-sandbox');
    await page.fill('#till-default-note', 'Counter 2');
    await page.click('#till-settings-save');
    await page.waitForURL(/ok=saved/);
    assert.equal(await page.getAttribute('#till-note', 'placeholder'), 'Counter 2');

    if (javaScriptEnabled) {
      await page.waitForSelector('.keypad.ready');
      for (const k of ['1', '2', '3', '4', '.', '5']) await page.click(`.keypad .key:text-is("${k}")`);
      assert.equal(await page.textContent('#till-total'), '¥1,234.50 CNY');
    } else {
      await page.fill('#till-amount', '1234.50');
    }
    await noSidewaysScroll(page);
    await page.screenshot({ path: join(artifacts, `counter-till-${name}.png`), fullPage: true });

    // The customer display, one click away (a second window on the second screen).
    const [display] = await Promise.all([context.waitForEvent('page'), page.click('#open-display')]);
    // Idle, or the last sale for a minute after it ended.
    await display.waitForSelector('#display-state');
    const displayProblems = watchConsole(display, { javaScriptEnabled });

    // "Show QR": the QR code at once, large, with the actions above the fold; with
    // JavaScript in place (no page load: the marker stays).
    if (javaScriptEnabled) await page.evaluate(() => { window.tillMarker = 'same page'; });
    const started = Date.now();
    await page.click('#till-qr');
    await page.waitForSelector('#checkout-state.pending');
    const shownIn = Date.now() - started;
    const qrBox = await page.locator('figure.qr .qr-code').boundingBox();
    const short = Math.min(viewport.width, viewport.height);
    assert.ok(qrBox.width >= 0.5 * short, `QR ${qrBox.width}px on a ${short}px side`);
    const close = await page.locator('#close-checkout').boundingBox();
    if (viewport.width >= 768) assert.ok(close.y + close.height <= viewport.height, 'actions above the fold');
    await noSidewaysScroll(page);
    await page.screenshot({ path: join(artifacts, `counter-qr-${name}.png`), fullPage: false });
    const qr = await page.getAttribute('figure.qr', 'data-qr-content');

    // The display is a window of its own on the second screen: in front there (a page in
    // the background may have its reloads held back by the browser).
    await display.bringToFront();
    await display.waitForSelector('#display-state[data-status=pending]', { timeout: 5_000 });
    assert.match(await display.textContent('#display-state'), /1,234\.50/);
    assert.ok(await display.isVisible('.display-qr svg'), 'the QR code on the display');
    assert.doesNotMatch(await display.content(), /counter1|user-name|sidenav/, 'nothing private');
    await display.screenshot({ path: join(artifacts, `counter-display-pending-${name}.png`) });

    // Paid in the wallet: the display and the till follow.
    const paidAt = Date.now();
    await payInWallet(qr);
    await display.waitForSelector('#display-state[data-status=paid]', { timeout: 4_000 });
    const displayMs = Date.now() - paidAt;
    await page.waitForSelector('#checkout-state.paid', { timeout: 6_000 });
    const tillMs = Date.now() - paidAt;
    if (javaScriptEnabled) assert.equal(await page.evaluate(() => window.tillMarker), 'same page');
    console.log(`# ${name}: QR shown in ${shownIn} ms; paid on the display after ${displayMs} ms, on the till after ${tillMs} ms`);
    if (javaScriptEnabled) assert.ok(displayMs < 1_500, `display followed in ${displayMs} ms`);
    await display.screenshot({ path: join(artifacts, `counter-display-paid-${name}.png`) });
    await page.screenshot({ path: join(artifacts, `counter-paid-${name}.png`), fullPage: false });

    // The receipt: printed on 58 mm paper, without the buttons, never "updates by itself".
    await page.click('#checkout-receipt');
    await page.waitForSelector('#receipt');
    assert.equal(await page.textContent('#receipt-amount'), '¥1,234.50 CNY');
    assert.match(await page.textContent('#receipt'), /茶馆 Tea House/);
    await page.goto(`${page.url().split('?')[0]}?paper=58`);
    await page.waitForSelector('#receipt.paper-58');
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(printed, /updates by itself|自动更新|Print|打印/);
    assert.ok(!(await page.isVisible('.receipt-tools')), 'no buttons on paper');
    await page.screenshot({ path: join(artifacts, `counter-receipt-58-${name}.png`), fullPage: true });
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
    writeFileSync(join(artifacts, `counter-receipt-58-${name}.pdf`), pdf);
    const box = /MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf.toString('latin1'));
    assert.ok(box, 'a page size in the PDF');
    assert.ok(Math.abs(Number(box[1]) - 164.4) < 2, `58 mm wide: ${box[1]} pt`);
    await page.emulateMedia({ media: 'screen' });

    assert.deepEqual(problems, [], 'no page or console errors');
    assert.deepEqual(displayProblems, [], 'no display errors');
    await context.close();
  });

  test(`a customer's cancel and a password that never comes (${name})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale, viewport });
    const page = await context.newPage();
    const problems = watchConsole(page, { javaScriptEnabled });
    await signIn(page, app.base, 'counter1', 'merchant-password-counter', '/till');
    // Typed at once, before the page's script has run: kept.
    await page.fill('#till-amount', '9.90');
    await page.click('#till-qr');
    await page.waitForSelector('#checkout-state.pending');
    const qr = await page.getAttribute('figure.qr', 'data-qr-content');
    // The customer backs out in the wallet: the till shows it within a couple of seconds.
    const wallet = await context.newPage();
    await wallet.goto(qr);
    const cancelled = Date.now();
    await wallet.click('form[action$=cancel] button');
    await page.waitForSelector('#checkout-state.closed', { timeout: 6_000 });
    console.log(`# ${name}: the customer's cancel showed after ${Date.now() - cancelled} ms`);
    await page.screenshot({ path: join(artifacts, `counter-cancelled-${name}.png`), fullPage: false });

    // A code payment waiting for a password that never comes: cancelled at the provider.
    await page.goto(`${app.base}/till`);
    await page.fill('#till-amount', '66.00');
    await wallet.goto(`${app.base}/sandbox/wallet/alipay?mode=password`);
    const code = await wallet.getAttribute('#pay-code', 'data-code');
    assert.ok(await wallet.isVisible('#pay-barcode'), 'the wallet shows a barcode');
    await wallet.screenshot({ path: join(artifacts, `counter-wallet-barcode-${name}.png`), fullPage: true });
    await page.fill('#till-scan', code);
    await page.press('#till-scan', 'Enter');
    await page.waitForSelector('#checkout-state.pending');
    await page.waitForSelector('#checkout-state.closed', { timeout: 20_000 });
    assert.match(await page.textContent('#checkout-status'), /nothing was charged|未扣款/);
    await page.screenshot({ path: join(artifacts, `counter-timed-out-${name}.png`), fullPage: false });
    // Too late for the customer: the wallet cannot pay it any more.
    await wallet.reload();
    assert.equal(await wallet.isVisible('#confirm-password'), false, 'nothing left to confirm');
    assert.deepEqual(problems, [], 'no page or console errors');
    await context.close();
  });
}
