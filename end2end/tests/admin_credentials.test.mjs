// An admin adds a live Stripe channel whose gateway is the built-in sandbox (keys pasted),
// sees its fingerprints, runs "test connection", rotates its webhook secret (add the new
// one, retire the old one); a WeChat Pay channel with a bad key is refused with the field
// named and the input kept, then saved with the key uploaded as a file; a WeChat Pay
// channel in platform-certificate mode downloads its certificates with "Refresh
// certificates now". Once with JavaScript and once without. A merchant opening
// /credentials is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts, signIn, setTwoFaPolicy } from './support.mjs';

let app;
let browser;
const keys = {};

function readKeys(dir) {
  const read = (f) => readFileSync(join(dir, f), 'utf8').trim();
  return { read, dir };
}

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  for (const provider of ['stripe', 'wechatpay']) {
    const dir = mkdtempSync(join(tmpdir(), `paydesk-keys-${provider}-`));
    await app.cli(['channel', 'sandbox-keys', provider, '--out', dir]);
    keys[provider] = readKeys(dir);
  }
  await app.addUser('mara', 'merchant', 'merchant-pass-123');
  // The first test adds a live channel, after which admins must enrol in two-step sign-in
  // by default; this suite is about credentials, so it signs in with passwords only.
  await setTwoFaPolicy(browser, app, '');
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`admin adds, tests and rotates a live channel (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'admin', app.password, '/credentials');
    await page.waitForSelector('#channels-table');
    assert.match(await page.textContent('#channels-table'), /stripe-sandbox/);
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // Add a live Stripe channel by pasting its keys.
    const name = `shop-${mode}`;
    const s = keys.stripe;
    await page.click('a[href="/credentials?add=stripe"]');
    await page.waitForSelector('#channel-form');
    await page.fill('#cf-name', name);
    await page.fill('#cf-gateway', `${app.base}/sandbox/stripe`);
    await page.fill('#cf-secret_key', s.read('secret_key.txt'));
    await page.fill('#cf-webhook_secret', `whsec_e2e_first_${mode}`);
    await shot(page, `credentials-add-en-${mode}`);
    await page.click('#save-channel');
    await page.waitForSelector('#cred-ok');
    const row = `tr[data-channel="${name}"]`;
    await page.waitForSelector(row);
    const rowText = await page.textContent(row);
    assert.match(rowText, /webhook secret: [0-9a-f]{16}/, 'fingerprint shown');
    assert.ok(!(await page.content()).includes(s.read('secret_key.txt')), 'secret never shown');

    // Test connection: the sandbox answers "no such order".
    await page.click(`${row} button.test-connection`);
    await page.waitForSelector('#test-result');
    assert.equal(await page.getAttribute('#test-result', 'data-verdict'), 'ok');
    assert.match(await page.textContent('#test-result'), /OK/);
    await shot(page, `credentials-list-en-${mode}`);

    // Rotate the webhook secret: add the new one (both accepted), then retire the old one.
    await page.click(`${row} a[href="/credentials?edit=${name}"]`);
    await page.waitForSelector('#rotate-webhook');
    assert.equal(await page.getAttribute('#cf-secret_key', 'placeholder'), 'Unchanged — paste to replace');
    await page.fill('#rot-webhook', `whsec_e2e_second_${mode}`);
    await page.click('#add-webhook-secret');
    await page.waitForSelector('#cred-ok');
    await page.waitForSelector('#webhook-secrets li:nth-child(2)');
    assert.equal(await page.locator('#webhook-secrets li').count(), 2, 'overlap: both secrets listed');
    await shot(page, `credentials-rotate-en-${mode}`);
    await page.click('#webhook-secrets li:nth-child(2) button');
    // Retiring asks twice: a second press in place with JavaScript, a confirmation step without.
    if (javaScriptEnabled) {
      await page.waitForSelector('#webhook-secrets li:nth-child(2) button.armed');
      await page.click('#webhook-secrets li:nth-child(2) button');
    } else {
      await page.waitForSelector('#confirm-step');
      assert.match(await page.textContent('#confirm-question'), new RegExp(`Retire \\w+ of channel ${name}\\?`));
      await page.click('#confirm-yes');
    }
    await page.waitForSelector('#cred-ok');
    await page.waitForFunction(() => document.querySelectorAll('#webhook-secrets li').length === 1);
    assert.match(await page.textContent('#webhook-secrets'), /newest/);

    // A WeChat Pay channel with a bad private key: refused, field named, input kept.
    const w = keys.wechatpay;
    await page.goto(`${app.base}/credentials?add=wechatpay`);
    await page.waitForSelector('#channel-form');
    const wxName = `wx-${mode}`;
    await page.fill('#cf-name', wxName);
    await page.fill('#cf-gateway', `${app.base}/sandbox/wechatpay`);
    await page.fill('#cf-mchid', w.read('mchid.txt'));
    await page.fill('#cf-appid', w.read('appid.txt'));
    await page.fill('#cf-merchant_serial', w.read('merchant_serial.txt'));
    await page.fill('#cf-merchant_private_key', 'this is not a key');
    await page.fill('#cf-apiv3_key', w.read('apiv3_key.txt'));
    await page.fill('#cf-public_key_id', w.read('public_key_id.txt'));
    await page.fill('#cf-public_key', w.read('public_key.pem'));
    await page.click('#save-channel');
    await page.waitForSelector('#cred-error');
    assert.match(await page.textContent('#cred-error'), /Merchant API private key/);
    assert.equal(await page.inputValue('#cf-mchid'), w.read('mchid.txt'), 'non-secret input kept');
    assert.equal(await page.inputValue('#cf-merchant_private_key'), '', 'secrets are not echoed');
    await shot(page, `credentials-error-en-${mode}`);

    // Upload the key file instead; secrets must be given again.
    await page.setInputFiles('#cf-merchant_private_key-file', join(w.dir, 'merchant_private_key.pem'));
    await page.fill('#cf-apiv3_key', w.read('apiv3_key.txt'));
    await page.click('#save-channel');
    await page.waitForSelector(`tr[data-channel="${wxName}"]`);
    await page.click(`tr[data-channel="${wxName}"] button.test-connection`);
    await page.waitForSelector('#test-result');
    assert.equal(await page.getAttribute('#test-result', 'data-verdict'), 'ok');

    // Chinese.
    await page.click('.lang-switch button[value=zh]');
    await page.waitForSelector('text=退出登录');
    await page.waitForSelector('#channels-table');
    assert.match(await page.textContent('h1'), /支付凭证/);
    assert.match(await page.textContent('#channels-table'), /测试连接/);
    await shot(page, `credentials-list-zh-${mode}`);
    await page.goto(`${app.base}/credentials?edit=${name}`);
    await page.waitForSelector('#rotate-webhook');
    await shot(page, `credentials-rotate-zh-${mode}`);
    await page.goto(`${app.base}/credentials?add=wechatpay&error=invalid&field=merchant_private_key`);
    await page.waitForSelector('#cred-error');
    assert.match(await page.textContent('#cred-error'), /商户 API 私钥/);
    await shot(page, `credentials-error-zh-${mode}`);
    await page.click('.lang-switch button[value=en]');
    await page.waitForSelector('text=Sign out');

    assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    await context.close();
  });

  test(`admin downloads a WeChat Pay channel's platform certificates now (${mode})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signIn(page, app.base, 'admin', app.password, '/credentials?add=wechatpay');
    await page.waitForSelector('#channel-form');
    if (javaScriptEnabled) await page.waitForLoadState('networkidle');

    // Platform-certificate mode: no public key, automatic download on, no certificate yet.
    const w = keys.wechatpay;
    const name = `wx-certs-${mode}`;
    await page.fill('#cf-name', name);
    await page.fill('#cf-gateway', `${app.base}/sandbox/wechatpay`);
    await page.fill('#cf-mchid', w.read('mchid.txt'));
    await page.fill('#cf-appid', w.read('appid.txt'));
    await page.fill('#cf-merchant_serial', w.read('merchant_serial.txt'));
    await page.fill('#cf-merchant_private_key', w.read('merchant_private_key.pem'));
    await page.fill('#cf-apiv3_key', w.read('apiv3_key.txt'));
    await page.check('#cf-download_certificates');
    await page.click('#save-channel');
    const row = `tr[data-channel="${name}"]`;
    await page.waitForSelector(row);

    // From the list: downloaded, counted, its expiry shown, the certificate listed.
    await page.click(`${row} button.refresh-certs`);
    await page.waitForSelector('#refresh-result');
    assert.equal(await page.getAttribute('#refresh-result', 'data-outcome'), 'ok');
    assert.match(await page.textContent('#refresh-result'), /1 certificate, 1 new; the newest expires \d{4}-\d{2}-\d{2}/);
    assert.match(await page.textContent(row), /platform certificate [0-9A-F]{40}/);
    await shot(page, `credentials-refresh-en-${mode}`);

    // From the edit page: the last download is shown; nothing new this time.
    await page.click(`${row} a[href="/credentials?edit=${name}"]`);
    await page.waitForSelector('#refresh-certs');
    assert.match(await page.textContent('#last-refresh'), /Last download .*: OK/);
    await page.click('#refresh-certs button.refresh-certs');
    await page.waitForSelector('#refresh-result');
    assert.match(await page.textContent('#refresh-result'), /1 certificate, none new/);
    assert.ok(page.url().includes(`edit=${name}`), 'back on the edit page');

    // Chinese.
    await page.click('.lang-switch button[value=zh]');
    await page.waitForSelector('text=退出登录');
    await page.waitForSelector('#refresh-result');
    assert.match(await page.textContent('#refresh-result'), /共 1 张证书，没有新证书/);
    assert.match(await page.textContent('#refresh-certs'), /立即更新平台证书/);
    await shot(page, `credentials-refresh-zh-${mode}`);
    await page.click('.lang-switch button[value=en]');
    await page.waitForSelector('text=Sign out');

    assert.deepEqual(problems.filter((p) => !p.includes('favicon')), [], 'no console errors or hydration warnings');
    await context.close();
  });
}

test('a merchant opening /credentials is refused', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, app.base, 'mara', 'merchant-pass-123');
  const res = await page.goto(`${app.base}/credentials`);
  assert.equal(res.status(), 403);
  await page.waitForSelector('text=Your role cannot open this page');
  assert.equal(await page.locator('#channels-table').count(), 0);
  await shot(page, 'credentials-merchant-refused-en');
  await context.close();
});
