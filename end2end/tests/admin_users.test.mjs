// An admin adds a user, creates an API key (shown once, on a page reached by redirect, with
// copy buttons), revokes it and disables the user (each asked twice: in place with
// JavaScript, on a confirmation step without), and reads the audit log in sentences —
// once with JavaScript (hydrated app) and once without (plain forms and links).
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
    if (javaScriptEnabled) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.base });
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
    assert.equal(new URL(page.url()).pathname, '/admin/api-keys/new', 'shown on a GET page after a redirect');
    const copy = page.locator('button[data-copy="new-api-key"]');
    if (javaScriptEnabled) {
      await copy.click();
      await page.waitForSelector('button[data-copy="new-api-key"] >> text=Copied');
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key, 'copied');
    } else {
      assert.equal(await copy.isVisible(), false, 'no copy button without JavaScript');
    }
    await page.screenshot({ path: join(artifacts, `api-key-created-en-${mode}.png`), fullPage: true });
    const api = await fetch(`${app.base}/api/v1/orders/NOPE`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(api.status, 404, 'the new key authenticates');

    // Back lands on the users page (no resubmission); the key's page again: it is gone.
    await page.goBack();
    await page.waitForSelector(`tr[data-key="${keyName}"]`);
    assert.equal(new URL(page.url()).pathname, '/users');
    await page.goto(`${app.base}/admin/api-keys/new`);
    await page.waitForSelector('#secret-gone');
    assert.ok(!(await page.content()).includes(key), 'never shown again');
    await page.click('#back-to-users');
    await page.waitForSelector(`tr[data-key="${keyName}"]`);
    const listed = await page.content();
    assert.ok(!listed.includes(key) && !listed.includes(secret), 'shown only once');
    await page.screenshot({ path: join(artifacts, `users-en-${mode}.png`), fullPage: true });

    // Revoke it: asked twice, nothing happens on the first press.
    await confirmTwice(page, `tr[data-key="${keyName}"] button.danger`, javaScriptEnabled, `revoke-${mode}`);
    await page.waitForSelector('.notice.ok >> text=/revoked/');
    await page.waitForSelector(`tr[data-key="${keyName}"] .status.revoked`);
    const refused = await fetch(`${app.base}/api/v1/orders/NOPE`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(refused.status, 401, 'a revoked key stops working');

    // Disable the new user: asked twice as well.
    await confirmTwice(page, `tr[data-user="${name}"] button.danger`, javaScriptEnabled, `disable-${mode}`);
    await page.waitForSelector(`tr[data-user="${name}"] .status.disabled`);

    // The logs tabs.
    for (const tab of ['inbox', 'calls', 'notifications', 'audit']) {
      await page.goto(`${app.base}/logs?tab=${tab}`);
      await page.waitForSelector(`#tab-${tab}[aria-current=page]`);
      await page.waitForSelector(`#${tab}-filters`);
    }
    await page.waitForSelector('#audit-table');
    const audit = await page.textContent('#audit-table');
    assert.match(audit, new RegExp(`admin revoked API key “${keyName}”`));
    assert.match(audit, new RegExp(`admin disabled user ${name}`));
    assert.doesNotMatch(audit, /signed in/, 'sign-ins have their own filter');
    await page.selectOption('#f-action', 'user_created');
    await page.click('#audit-filters button[type=submit]');
    await page.waitForURL(/action=user_created/);
    await page.waitForSelector('#audit-table');
    assert.match(await page.textContent('#audit-table'), new RegExp(`admin added user ${name}`));
    assert.doesNotMatch(await page.textContent('#audit-table'), /revoked/);
    await page.goto(`${app.base}/logs?tab=audit&show=sign_ins`);
    await page.waitForSelector('#audit-table');
    assert.match(await page.textContent('#audit-table'), /admin signed in/);
    await page.goto(`${app.base}/logs?tab=audit`);
    await page.waitForSelector('#audit-table');
    await page.screenshot({ path: join(artifacts, `logs-audit-en-${mode}.png`), fullPage: true });

    // In Chinese.
    await page.click('.lang-switch button[value=zh]');
    await page.waitForSelector('text=审计日志');
    assert.match(await page.textContent('#audit-table'), new RegExp(`admin 吊销了 API 密钥“${keyName}”`));
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

/** Presses a dangerous button and confirms: with JavaScript a second press in place (the
 *  first changes only its words), without it the confirmation step the first post leads to. */
async function confirmTwice(page, selector, javaScriptEnabled, shot) {
  const before = page.url();
  await page.click(selector);
  if (javaScriptEnabled) {
    await page.waitForSelector(`${selector}.armed >> text=Press again to confirm`);
    assert.equal(page.url(), before, 'nothing posted on the first press');
    await page.screenshot({ path: join(artifacts, `confirm-${shot}.png`), fullPage: true });
    await page.click(selector);
  } else {
    await page.waitForSelector('#confirm-step');
    assert.match(new URL(page.url()).search, /confirm=/);
    await page.screenshot({ path: join(artifacts, `confirm-${shot}.png`), fullPage: true });
    await page.click('#confirm-yes');
  }
  await page.waitForURL((u) => u.searchParams.has('ok'));
}
