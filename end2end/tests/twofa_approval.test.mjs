// Two-step sign-in and refund approval in a real browser, with JavaScript on and off:
// an admin requires two-step sign-in for admins on the security page; a new admin is
// walked through enrolment at sign-in (QR code, key, confirmation code, recovery codes
// shown once), signs in with a code, with a recovery code, is refused the same recovery
// code again, and is walked through enrolment again after `paydesk user reset-2fa`.
// Then a support refund above the threshold waits in the refunds list's own tab, the
// requester of an admin refund sees that another admin decides it, a second admin
// approves one (sent) and rejects the other with a reason (released), both visible in
// the order's timeline. Screenshots in English and Chinese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts, signIn, createApiKey, paidOrder } from './support.mjs';

let app;
let browser;
let apiKey;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  apiKey = await createApiKey(app);
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code for the 30-second step `offset` steps from now. */
function totp(secret, offset = 0) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const h = createHmac('sha1', base32(secret)).update(msg).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function context(javaScriptEnabled, locale = 'en-US') {
  return browser.newContext({ javaScriptEnabled, locale, viewport: { width: 1280, height: 900 } });
}

/** The password step only (the second step follows). */
async function password(page, username, pw) {
  await page.goto(`${app.base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', pw);
  await page.click('button[type=submit].primary');
  await page.waitForURL((u) => u.pathname !== '/login');
}

async function signOut(page) {
  await page.goto(`${app.base}/`);
  await page.click('form.logout button');
  await page.waitForURL((u) => u.pathname === '/login');
}

async function postPolicy(page, value) {
  await page.goto(`${app.base}/security`);
  await page.selectOption('#twofa-policy', value);
  await page.click('#twofa-policy-form button[type=submit]');
  await page.waitForURL((u) => u.searchParams.get('ok') === 'saved');
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`an enforced policy walks an admin through enrolment; codes and recovery codes sign in (${mode})`, async () => {
    const name = `a2-${mode}`;
    const pw = `${name}-password-123`;
    await app.addUser(name, 'admin', pw);
    const adminCtx = await context(javaScriptEnabled);
    const admin = await adminCtx.newPage();
    const adminProblems = watchConsole(admin, { javaScriptEnabled });
    await signIn(admin, app.base, 'admin', app.password);
    await postPolicy(admin, 'admin');
    await admin.screenshot({ path: join(artifacts, `security-en-${mode}.png`), fullPage: true });

    const ctx = await context(javaScriptEnabled);
    const page = await ctx.newPage();
    await password(page, name, pw);
    assert.equal(new URL(page.url()).pathname, '/login/enroll');
    await page.waitForSelector('#twofa-qr svg');
    const secret = (await page.textContent('#twofa-secret')).trim();
    await page.screenshot({ path: join(artifacts, `twofa-enrol-en-${mode}.png`), fullPage: true });
    await page.fill('#code', '000000');
    await page.click('#twofa-confirm');
    await page.waitForSelector('#twofa-error');
    assert.match(await page.textContent('#twofa-error'), /wrong or was used already/);
    await page.fill('#code', totp(secret));
    await page.click('#twofa-confirm');
    await page.waitForSelector('#recovery-codes');
    const codes = (await page.$$eval('#recovery-codes code', (els) => els.map((e) => e.textContent.trim())));
    assert.equal(codes.length, 10);
    await page.screenshot({ path: join(artifacts, `twofa-codes-en-${mode}.png`), fullPage: true });
    await page.click('#twofa-continue');
    await page.waitForURL((u) => u.pathname === '/');
    await signOut(page);

    // A code from the app (the next step: the confirmation's was spent).
    await password(page, name, pw);
    assert.equal(new URL(page.url()).pathname, '/login/2fa');
    await page.fill('#code', totp(secret, 1));
    await page.click('#twofa-verify');
    await page.waitForURL((u) => u.pathname === '/');
    await signOut(page);

    // A recovery code, once.
    await password(page, name, pw);
    await page.fill('#code', codes[0]);
    await page.click('#twofa-verify');
    await page.waitForURL((u) => u.pathname === '/');
    await signOut(page);
    await password(page, name, pw);
    await page.fill('#code', codes[0]);
    await page.click('#twofa-verify');
    await page.waitForSelector('#twofa-error');

    // In Chinese: the code step (Accept-Language).
    const zhCtx = await context(javaScriptEnabled, 'zh-CN');
    const zh = await zhCtx.newPage();
    await password(zh, name, pw);
    await zh.waitForSelector('#twofa-form');
    assert.match(await zh.textContent('body'), /验证码/);
    await zh.screenshot({ path: join(artifacts, `twofa-code-zh-${mode}.png`), fullPage: true });

    // The CLI reset: enrolment again at the next sign-in.
    await app.cli(['user', 'reset-2fa', name]);
    await password(zh, name, pw);
    assert.equal(new URL(zh.url()).pathname, '/login/enroll');
    assert.match(await zh.textContent('body'), /设置两步验证/);
    await zh.screenshot({ path: join(artifacts, `twofa-enrol-zh-${mode}.png`), fullPage: true });

    // Back to nobody, for the other tests; the admin's session stayed valid.
    await postPolicy(admin, '');
    assert.deepEqual(adminProblems, []);
    await Promise.all([adminCtx.close(), ctx.close(), zhCtx.close()]);
  });

  test(`refunds above the threshold wait for another admin, who approves or rejects (${mode})`, async () => {
    const support = `s-${mode}`;
    const approver = `ap-${mode}`;
    await app.addUser(support, 'support', `${support}-password-123`);
    await app.addUser(approver, 'admin', `${approver}-password-123`);
    const adminCtx = await context(javaScriptEnabled);
    const admin = await adminCtx.newPage();
    await signIn(admin, app.base, 'admin', app.password, '/security');
    for (const role of ['support', 'admin']) {
      await admin.selectOption('#threshold-role', role);
      await admin.fill('#threshold-amount', '5.00');
      await admin.selectOption('#threshold-currency', 'CNY');
      await admin.click('#threshold-form button[type=submit]');
      await admin.waitForURL((u) => u.searchParams.get('ok') === 'saved');
    }
    assert.match(await admin.textContent('#refund-thresholds'), /¥5\.00/);

    // Support asks for 6.00 of a 10.00 order: reserved, waiting.
    const first = await paidOrder(app, apiKey, { amount: 1000 });
    const sctx = await context(javaScriptEnabled);
    const s = await sctx.newPage();
    await signIn(s, app.base, support, `${support}-password-123`, `/orders/${first}?refund=6.00&reason=broken`);
    await s.waitForSelector('#refund-confirm-button');
    await s.click('#refund-confirm-button');
    await s.waitForSelector('#outcome-ok');
    assert.match(await s.textContent('#outcome-ok'), /waits for another admin/);
    assert.match(await s.textContent('#timeline'), /Refund awaiting approval/);
    // The refund's own row says it waits (not just "pending").
    assert.match(await s.textContent('#order-refunds'), /Refund awaiting approval/);
    assert.match(await s.textContent('#amount-refundable'), /¥4\.00/);

    // The admin asks for 6.00 of another order: they cannot decide it themselves.
    const second = await paidOrder(app, apiKey, { amount: 1000 });
    await admin.goto(`${app.base}/orders/${second}?refund=6.00&reason=mine`);
    await admin.waitForSelector('#refund-confirm-button');
    await admin.click('#refund-confirm-button');
    await admin.waitForSelector('#outcome-ok');
    await admin.goto(`${app.base}/refunds?status=awaiting`);
    await admin.waitForSelector('#awaiting-table');
    assert.match(await admin.textContent('#awaiting-table'), /another admin decides it/);

    // Another admin approves support's and rejects the admin's.
    const actx = await context(javaScriptEnabled);
    const a = await actx.newPage();
    const problems = watchConsole(a, { javaScriptEnabled });
    await signIn(a, app.base, approver, `${approver}-password-123`, '/refunds?status=awaiting');
    await a.waitForSelector('#awaiting-table');
    assert.equal((await a.$$('#awaiting-table tbody tr')).length, 2);
    await a.screenshot({ path: join(artifacts, `refunds-awaiting-en-${mode}.png`), fullPage: true });
    const rows = await a.$$eval('#awaiting-table tbody tr', (trs) => trs.map((tr) => ({ no: tr.dataset.refund, order: tr.querySelector('a').textContent })));
    const mine = rows.find((r) => r.order === first);
    const theirs = rows.find((r) => r.order === second);
    await a.click(`tr[data-refund="${mine.no}"] button.approve`);
    await a.waitForURL((u) => u.searchParams.get('ok') === 'approved');
    await a.click(`tr[data-refund="${theirs.no}"] button.reject`);
    await a.waitForURL((u) => u.searchParams.get('error') === 'reason_missing');
    assert.match(await a.textContent('#outcome-error'), /Say why/);
    await a.fill(`tr[data-refund="${theirs.no}"] input[name=reason]`, 'duplicate');
    await a.click(`tr[data-refund="${theirs.no}"] button.reject`);
    await a.waitForURL((u) => u.searchParams.get('ok') === 'rejected');
    await a.waitForSelector('#awaiting-empty');

    await a.goto(`${app.base}/orders/${first}`);
    await a.waitForSelector('#timeline');
    for (let i = 0; i < 50 && !/Refund succeeded/.test(await a.textContent('#timeline')); i++) {
      await new Promise((ok) => setTimeout(ok, 200));
      await a.reload();
      await a.waitForSelector('#timeline');
    }
    assert.match(await a.textContent('#timeline'), /Refund approved/);
    assert.match(await a.textContent('#timeline'), /Refund succeeded/);
    await a.goto(`${app.base}/orders/${second}`);
    await a.waitForSelector('#timeline');
    assert.match(await a.textContent('#timeline'), /Refund rejected/);
    assert.match(await a.textContent('#amount-refundable'), /¥10\.00/);

    // In Chinese: the awaiting tab (empty now) and the security page.
    await a.click('.lang-switch button[value=zh]');
    await a.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    await a.goto(`${app.base}/refunds?status=awaiting`);
    await a.waitForSelector('#awaiting-empty');
    assert.match(await a.textContent('#refund-tabs'), /待审批/);
    await a.goto(`${app.base}/security`);
    await a.waitForSelector('#refund-thresholds');
    assert.match(await a.textContent('main'), /退款审批/);
    await a.screenshot({ path: join(artifacts, `security-zh-${mode}.png`), fullPage: true });
    await a.click('.lang-switch button[value=en]');

    // Clean up the thresholds for the other mode's run.
    for (const role of ['support', 'admin']) {
      await admin.goto(`${app.base}/security`);
      await admin.click(`tr[data-threshold="${role}.CNY"] button`);
      await admin.waitForURL((u) => u.searchParams.get('ok') === 'saved');
    }
    assert.deepEqual(problems, []);
    await Promise.all([adminCtx.close(), sctx.close(), actx.close()]);
  });
}
