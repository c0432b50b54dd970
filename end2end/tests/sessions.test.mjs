// A user sees where they are signed in and signs another device out, from the header's
// "Sessions" link — once with JavaScript (ActionForm, no page load) and once without
// (plain form post and redirect).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts, signIn } from './support.mjs';

let app;
let browser;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`a user signs another device out from the sessions page (${mode})`, async () => {
    const opts = { javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 800 } };
    const other = await browser.newContext(opts);
    const otherPage = await other.newPage();
    await signIn(otherPage, app.base, 'admin', app.password);

    const context = await browser.newContext(opts);
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'admin', app.password);
    await page.click('header a[href="/sessions"]');
    await page.waitForSelector('#sessions-table');
    if (javaScriptEnabled) await page.waitForSelector('html[data-hydrated]');
    const before = await page.locator('#sessions-table tbody tr').count();
    assert.ok(before >= 2, `both browsers are listed (${before})`);
    assert.equal(await page.locator('#sessions-table tr[data-current="true"]').count(), 1);
    await page.screenshot({ path: join(artifacts, `sessions-en-${mode}.png`), fullPage: true });

    // Sign out every other session (the other browser among them).
    await page.click('text=Sign out everywhere else');
    await page.waitForSelector('.notice.ok');
    assert.match(await page.textContent('.notice.ok'), /Every other session was ended/);
    assert.equal(await page.locator('#sessions-table tbody tr').count(), 1, 'only this browser is left');

    await otherPage.goto(`${app.base}/orders`);
    assert.match(new URL(otherPage.url()).pathname, /^\/login$/, 'the other browser is signed out');
    await page.goto(`${app.base}/orders`);
    assert.equal(new URL(page.url()).pathname, '/orders', 'this browser stays signed in');
    assert.deepEqual(problems, []);
    await other.close();
    await context.close();
  });
}
