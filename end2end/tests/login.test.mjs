// The bootstrap admin signs in, switches language, navigates and signs out —
// once with JavaScript (hydrated app) and once without (plain forms and links).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts } from './support.mjs';

let app;
let browser;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  // SIGTERM is a graceful shutdown: the process exits on its own with status 0.
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

async function signIn(page, password) {
  await page.goto(`${app.base}/users`);
  assert.match(new URL(page.url()).pathname, /^\/login$/, 'anonymous visitors land on the sign-in page');
  await page.fill('#username', 'admin');
  await page.fill('#password', password);
  await page.click('button[type=submit].primary');
  await page.waitForURL(`${app.base}/users`);
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`admin signs in, switches language and signs out (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watchConsole(page);

    await page.goto(`${app.base}/login?error=invalid`);
    await page.waitForSelector('#login-error');
    assert.match(await page.textContent('#login-error'), /Wrong username or password/);
    await page.screenshot({ path: join(artifacts, `login-en-${mode}.png`), fullPage: true });

    await signIn(page, app.password);
    await page.waitForSelector('#users-table');
    assert.match(await page.textContent('#users-table'), /admin/);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');

    if (javaScriptEnabled) {
      // Islands: pages are server-rendered and links are plain links; on every page the
      // loader hydrates the interactive parts and marks <html data-hydrated>.
      await page.waitForSelector('html[data-hydrated]');
      await page.click('nav a[href="/"]');
      await page.waitForSelector('text=Welcome, admin');
      await page.waitForSelector('html[data-hydrated]');
      await page.click('nav a[href="/users"]');
      await page.waitForSelector('#users-table');
      await page.waitForSelector('html[data-hydrated]');
    }

    await page.click('.lang-switch button[value=zh]');
    await page.waitForSelector('text=退出登录');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.match(await page.textContent('h1'), /用户/);
    await page.screenshot({ path: join(artifacts, `users-zh-${mode}.png`), fullPage: true });

    // The choice is remembered across visits.
    await page.goto(`${app.base}/`);
    await page.waitForSelector('text=欢迎，admin');
    await page.screenshot({ path: join(artifacts, `overview-zh-${mode}.png`), fullPage: true });

    await page.click('.lang-switch button[value=en]');
    await page.waitForSelector('text=Sign out');
    await page.click('form.logout button');
    await page.waitForURL(`${app.base}/login`);
    await page.goto(`${app.base}/`);
    assert.match(new URL(page.url()).pathname, /^\/login$/, 'signed out: pages send you to sign in');

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });
}
