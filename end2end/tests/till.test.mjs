// The counter in the browser: a cashier types an amount on the till (keypad with
// JavaScript, keyboard without), scans the customer's payment code from the sandbox
// wallet page (as a barcode gun types its digits and Enter), and the order turns paid:
// at once, or after the customer confirms the password on the wallet page. A declined
// code says so and keeps the amount. JavaScript on and off; en and zh; tablet and phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, signIn, artifacts } from './support.mjs';

let app;
let browser;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  await app.addUser('till1', 'merchant', 'merchant-password-till');
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

/** A fresh code from the sandbox Alipay wallet page, set to `mode`. */
async function walletCode(context, mode) {
  const wallet = await context.newPage();
  await wallet.goto(`${app.base}/sandbox/wallet/alipay?mode=${mode}`);
  const code = await wallet.getAttribute('#pay-code', 'data-code');
  assert.match(code, /^28\d{16}$/);
  // Styled: its inline stylesheet is allowed by the page's CSP (by hash).
  const size = await wallet.evaluate(() => getComputedStyle(document.querySelector('#pay-code')).fontSize);
  assert.equal(size, '28.8px');
  return { wallet, code };
}

/** The next customer: "New sale" in place with JavaScript, the till page again without. */
async function nextSale(page, javaScriptEnabled) {
  if (javaScriptEnabled) {
    await page.click('#new-sale');
    await page.waitForSelector('#till-amount');
    assert.equal(await page.inputValue('#till-amount'), '', 'an empty till');
  } else {
    await page.goto(`${app.base}/till`);
  }
}

const cases = [
  { javaScriptEnabled: true, locale: 'zh-CN', viewport: { width: 768, height: 1024 }, name: 'tablet-zh-js' },
  { javaScriptEnabled: false, locale: 'en-US', viewport: { width: 390, height: 844 }, name: 'phone-en-nojs' },
];

for (const { javaScriptEnabled, locale, viewport, name } of cases) {
  test(`a till sale by the customer's code, paid at once and by password (${name})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale, viewport });
    const page = await context.newPage();
    const problems = watchConsole(page, { javaScriptEnabled });
    await signIn(page, app.base, 'till1', 'merchant-password-till', '/till');
    await page.waitForSelector('#till-form');
    if (javaScriptEnabled) {
      await page.waitForLoadState('networkidle');
      // Hydrated: the island shows its keypad (`.ready`) only once it runs.
      await page.waitForSelector('.keypad.ready');
      // The keypad types 12.50; Enter goes on to the scan field.
      for (const k of ['1', '2', '.', '5', '0']) await page.click(`.keypad .key:text-is("${k}")`);
      assert.equal(await page.inputValue('#till-amount'), '12.50');
      await page.focus('#till-amount');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'till-scan');
    } else {
      assert.equal(await page.isVisible('.keypad'), false, 'no dead keypad without JavaScript');
      await page.fill('#till-amount', '12.50');
      await page.focus('#till-scan');
    }
    await page.screenshot({ path: join(artifacts, `till-${name}.png`), fullPage: true });

    // Paid at once: the scanner types the digits and Enter.
    let { wallet, code } = await walletCode(context, 'pay');
    await wallet.screenshot({ path: join(artifacts, `till-wallet-code-${name}.png`), fullPage: true });
    // With JavaScript the whole sale happens in place: no page load (the marker stays).
    if (javaScriptEnabled) await page.evaluate(() => { window.tillMarker = 'same page'; });
    await page.keyboard.type(code);
    const entered = Date.now();
    await page.keyboard.press('Enter');
    if (!javaScriptEnabled) await page.waitForURL(/\/checkout\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('#checkout-state.paid', { timeout: 5_000 });
    console.log(`# ${name}: the scanner's Enter to "Paid" on the till in ${Date.now() - entered} ms`);
    if (javaScriptEnabled) assert.equal(await page.evaluate(() => window.tillMarker), 'same page');
    assert.match(await page.textContent('#checkout-status'), /12\.50/);
    await page.screenshot({ path: join(artifacts, `till-paid-${name}.png`), fullPage: true });
    await wallet.close();

    // The customer must confirm with the password on the wallet page.
    await nextSale(page, javaScriptEnabled);
    await page.fill('#till-amount', '88.00');
    ({ wallet, code } = await walletCode(context, 'password'));
    await page.fill('#till-scan', code);
    await page.press('#till-scan', 'Enter');
    if (!javaScriptEnabled) await page.waitForURL(/\/checkout\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('#checkout-state.pending');
    assert.match(await page.textContent('#checkout-status'), /password|密码/);
    assert.ok(await page.isVisible('#close-checkout'), 'the cashier can cancel');
    await page.screenshot({ path: join(artifacts, `till-waiting-${name}.png`), fullPage: true });
    await wallet.reload();
    await wallet.waitForSelector('#confirm-password');
    await wallet.screenshot({ path: join(artifacts, `till-wallet-password-${name}.png`), fullPage: true });
    await wallet.click('#confirm-password');
    await wallet.waitForSelector('#code-outcome.paid');
    await wallet.close();
    // The active query (every 2 s) finds it; the page follows (polling or meta refresh).
    await page.waitForSelector('#checkout-state.paid', { timeout: 10_000 });

    // Declined: said so, the amount kept.
    await nextSale(page, javaScriptEnabled);
    await page.fill('#till-amount', '5.00');
    ({ wallet, code } = await walletCode(context, 'decline'));
    await page.fill('#till-scan', code);
    await page.press('#till-scan', 'Enter');
    await page.waitForSelector('#till-error');
    assert.match(await page.textContent('#till-error'), /declined|拒绝/);
    assert.equal(await page.inputValue('#till-amount'), '5.00');
    await wallet.close();

    // Not a payment code.
    await page.fill('#till-scan', 'hello');
    await page.press('#till-scan', 'Enter');
    // The new problem replaces the decline (with JavaScript, in place: wait for its words).
    await page.waitForFunction(() => /digits|数字/.test(document.querySelector('#till-error')?.textContent ?? ''));
    assert.match(await page.textContent('#till-error'), /digits|数字/);
    assert.deepEqual(problems, [], 'no page or console errors');
    await context.close();
  });
}
