// The overview before and after a sandbox payment: empty states that say what to do, then
// today's paid volume (with its currency) in the figures, the channel table and the chart,
// and the order still waiting for payment — with JavaScript and without. Screenshots in
// English and Chinese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  startPaydesk, launchBrowser, watchConsole, artifacts, signIn, createApiKey, createOrder, paidOrder,
} from './support.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';

  test(`the overview shows a sandbox payment with its currency (${mode})`, async () => {
    // A fresh instance per run: the figures start from nothing.
    const app = await startPaydesk();
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page, { javaScriptEnabled });
    try {
      await signIn(page, app.base, 'admin', app.password);
      await page.waitForSelector('#overview');
      if (javaScriptEnabled) await page.waitForLoadState('networkidle');

      // Nothing yet: every section says so, and where to start.
      const empty = await page.textContent('#overview');
      assert.match(empty, /No payments yet/);
      assert.match(empty, /No payments in the last 30 days\. Once customers pay/);
      assert.match(empty, /No order is waiting for payment/);
      assert.equal(await page.getAttribute('#overview a[href="/checkout"]', 'href'), '/checkout');

      const apiKey = await createApiKey(app);
      const no = await paidOrder(app, apiKey, { amount: 1234, channel: 'alipay-sandbox' });
      await createOrder(app, apiKey, { amount: 500, channel: 'wechatpay-sandbox' });

      await page.goto(`${app.base}/`);
      await page.waitForSelector('#channel-figures');
      const today = await page.textContent('.kpis .kpi:first-child');
      assert.match(today, /Today/);
      assert.match(today, /Paid volume\s*¥12\.34 CNY/);
      assert.match(today, /Paid orders\s*1(?!\d)/);
      // One paid of one decided order created today (the pending one is not decided).
      assert.match(today, /Success rate\s*100\.0%\s*1 paid of 1 decided/);
      assert.match(today, /Net\s*¥12\.34 CNY/);
      const row = await page.textContent('#channel-figures tbody tr:has(td:text-is("alipay-sandbox"))');
      assert.match(row, /¥12\.34 CNY/);
      const bar = await page.textContent('.chart svg rect title');
      assert.match(bar, /alipay-sandbox ¥12\.34 CNY \(1\)/);
      assert.match(await page.textContent('#pending'), /1 order is waiting for payment/);
      await page.click('#pending a[href="/orders?status=pending"]');
      await page.waitForSelector('#orders-table');
      assert.doesNotMatch(await page.textContent('#orders-table'), new RegExp(no), 'only pending orders');

      await page.goto(`${app.base}/`);
      await page.waitForSelector('#channel-figures');
      await page.screenshot({ path: join(artifacts, `overview-paid-en-${mode}.png`), fullPage: true });
      await page.click('.lang-switch button[value=zh]');
      await page.waitForSelector('html[lang="zh-CN"]');
      await page.waitForSelector('#channel-figures');
      assert.match(await page.textContent('.kpis .kpi:first-child'), /今日[\s\S]*收款金额\s*¥12\.34 CNY/);
      await page.screenshot({ path: join(artifacts, `overview-paid-zh-${mode}.png`), fullPage: true });

      assert.deepEqual(problems, [], 'no console errors or hydration warnings');
    } finally {
      await context.close();
      const stopped = await app.stop();
      assert.equal(stopped.code, 0, `paydesk did not shut down cleanly:\n${stopped.stderr}`);
    }
  });
}
