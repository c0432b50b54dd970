// An admin adds a user, creates an API key (shown once), revokes it and opens every logs
// tab — once with JavaScript (hydrated app) and once without (plain forms and links).
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

  test(`admin manages users, API keys and reads the logs (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'admin', app.password, '/users');
    await page.waitForSelector('#users-table');
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // Add a user.
    const name = `olga-${mode}`;
    await page.fill('#new-username', name);
    await page.selectOption('#new-role', 'support');
    await page.fill('#new-password', 'first-password-1');
    await page.click('#add-user button[type=submit]');
    await page.waitForSelector('.notice.ok');
    assert.match(await page.textContent('.notice.ok'), /user was created/);
    await page.waitForSelector(`tr[data-user="${name}"]`);

    // Create an API key: the result page shows the key and signing secret once.
    const keyName = `pos-${mode}`;
    await page.fill('#key-name', keyName);
    await page.click('#create-key button[type=submit]');
    await page.waitForSelector('#new-api-key');
    const key = (await page.textContent('#new-api-key')).trim();
    const secret = (await page.textContent('#new-signing-secret')).trim();
    assert.match(key, /^pdk_/);
    assert.match(secret, /^pdsec_/);
    await page.screenshot({ path: join(artifacts, `api-key-created-en-${mode}.png`), fullPage: true });
    const api = await fetch(`${app.base}/api/v1/orders/NOPE`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(api.status, 404, 'the new key authenticates');

    await page.click('#back-to-users');
    await page.waitForSelector(`tr[data-key="${keyName}"]`);
    const listed = await page.content();
    assert.ok(!listed.includes(key) && !listed.includes(secret), 'shown only once');
    await page.screenshot({ path: join(artifacts, `users-en-${mode}.png`), fullPage: true });

    // Revoke it.
    await page.click(`tr[data-key="${keyName}"] button.danger`);
    // The "created" notice is still on the page until the revocation comes back.
    await page.waitForSelector('.notice.ok >> text=/revoked/');
    await page.waitForSelector(`tr[data-key="${keyName}"] .status.revoked`);
    const refused = await fetch(`${app.base}/api/v1/orders/NOPE`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(refused.status, 401, 'a revoked key stops working');

    // The logs tabs.
    for (const tab of ['inbox', 'calls', 'notifications', 'audit']) {
      await page.goto(`${app.base}/logs?tab=${tab}`);
      await page.waitForSelector(`#tab-${tab}[aria-current=page]`);
      await page.waitForSelector(`#${tab}-filters`);
    }
    await page.waitForSelector('#audit-table');
    assert.match(await page.textContent('#audit-table'), /api_key_revoked/);
    await page.fill('#f-action', 'user_created');
    await page.click('#audit-filters button[type=submit]');
    await page.waitForURL(/action=user_created/);
    await page.waitForSelector('#audit-table');
    assert.match(await page.textContent('#audit-table'), new RegExp(name));
    assert.doesNotMatch(await page.textContent('#audit-table'), /api_key_revoked/);
    await page.screenshot({ path: join(artifacts, `logs-audit-en-${mode}.png`), fullPage: true });

    // In Chinese.
    await page.click('.lang-switch button[value=zh]');
    await page.waitForSelector('text=审计日志');
    await page.screenshot({ path: join(artifacts, `logs-audit-zh-${mode}.png`), fullPage: true });
    await page.goto(`${app.base}/users`);
    await page.waitForSelector('text=API 密钥');
    await page.screenshot({ path: join(artifacts, `users-zh-${mode}.png`), fullPage: true });
    await page.click('.lang-switch button[value=en]');
    await page.waitForSelector('text=Sign out');

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });
}
