// A merchant sees neither Credentials nor Users, is refused (403) when opening them, and
// is refused when calling their server functions directly with its own session cookie.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts, signIn } from './support.mjs';

let app;
let browser;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  await app.addUser('mia', 'merchant', 'merchant-password-1');
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`a merchant is refused admin pages and functions (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'mia', 'merchant-password-1');

    const nav = await page.textContent('nav.sidenav');
    assert.doesNotMatch(nav, /Credentials|Users|Logs/);
    assert.match(nav, /Checkout/);

    for (const path of ['/credentials', '/users', '/logs']) {
      const res = await page.goto(`${app.base}${path}`);
      assert.equal(res.status(), 403, `${path} answers 403`);
      await page.waitForSelector('.notice.error');
      assert.match(await page.textContent('.notice.error'), /Your role cannot open this page/);
    }
    await page.screenshot({ path: join(artifacts, `merchant-refused-en-${mode}.png`), fullPage: true });
    await page.click('.lang-switch button[value=zh]');
    await page.waitForSelector('text=您的角色无权打开此页面');
    await page.screenshot({ path: join(artifacts, `merchant-refused-zh-${mode}.png`), fullPage: true });
    await page.click('.lang-switch button[value=en]');
    await page.waitForSelector('text=Sign out');

    // Direct calls with the merchant's cookie (page.request shares the context's cookies).
    const calls = [
      ['/rpc/list_users', ''],
      ['/rpc/create_user', 'username=evil&role=admin&password=long-enough-pw'],
      ['/rpc/set_user_role', 'username=mia&role=admin'],
      ['/rpc/list_api_keys', ''],
      ['/rpc/logs_audit', ''],
      ['/rpc/logs_inbox', ''],
      ['/admin/api-keys', 'name=stolen'],
    ];
    for (const [path, data] of calls) {
      const r = await page.request.post(`${app.base}${path}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        data,
        maxRedirects: 0,
      });
      assert.equal(r.status(), 403, `${path} refuses a merchant`);
      assert.doesNotMatch(await r.text(), /pdk_|argon2/);
    }

    assert.deepEqual(problems.filter((p) => !p.includes('status of 403')), [], 'no console errors');
    await context.close();
  });
}
