// The theme switch (light / dark / system): a plain form post that sets a cookie, so the
// server renders <html data-theme> and the first paint already has the right colours —
// with JavaScript and without. "System" follows the browser's prefers-color-scheme. The
// checkout QR code stays dark on light in the dark theme, so phones can scan it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPaydesk, launchBrowser, watchConsole, signIn, createApiKey, createOrder } from './support.mjs';

let app;
let browser;
let pending;

// The page background of each theme (style/main.css).
const LIGHT_BG = 'rgb(246, 247, 249)';
const DARK_BG = 'rgb(15, 19, 25)';

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  pending = await createOrder(app, await createApiKey(app), { amount: 880, channel: 'wechatpay-sandbox' });
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

async function choose(page, theme) {
  await page.click(`.theme-switch button[value=${theme}]`);
  await page.waitForSelector(`html[data-theme=${theme}]`);
  assert.equal(await page.getAttribute(`.theme-switch button[value=${theme}]`, 'aria-pressed'), 'true');
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`the theme switch works on every page and before sign-in (${mode})`, async () => {
    // The operating system prefers dark: "system" must follow it.
    const context = await browser.newContext({
      javaScriptEnabled, colorScheme: 'dark', locale: 'en-US', viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const problems = watchConsole(page);

    await page.goto(`${app.base}/login`);
    assert.equal(await page.getAttribute('html', 'data-theme'), 'system');
    assert.equal(await background(page), DARK_BG, 'system follows prefers-color-scheme');
    await choose(page, 'light');
    assert.equal(await background(page), LIGHT_BG);

    // The choice outlives sign-in and is rendered by the server on every page.
    await signIn(page, app.base, 'admin', app.password, '/orders?status=pending');
    await page.waitForSelector('#orders-table');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    const html = await (await page.request.get(`${app.base}/refunds`)).text();
    assert.match(html, /<html[^>]*data-theme="light"/, 'in the first byte: no flash');

    // Back to the same page, filters kept.
    await choose(page, 'dark');
    assert.equal(new URL(page.url()).search, '?status=pending');
    assert.equal(await background(page), DARK_BG);
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // The QR code keeps its white quiet zone and black modules.
    await page.goto(`${app.base}/checkout/${pending.out_trade_no}`);
    await page.waitForSelector('figure.qr svg');
    const qr = await page.evaluate(() => {
      const box = document.querySelector('figure.qr .qr-code');
      return { bg: getComputedStyle(box).backgroundColor, ink: document.querySelector('figure.qr svg path').getAttribute('fill') };
    });
    assert.deepEqual(qr, { bg: 'rgb(255, 255, 255)', ink: '#000' });

    await choose(page, 'system');
    assert.equal(await background(page), DARK_BG);
    await context.close();

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
  });
}
