// The orders search box, saved views and test mode in a real browser (issue 18), with and
// without JavaScript: the last six characters of a number in lower case and a two-character
// Chinese word each find their one order; a query that does not parse says where beside the
// box (zh); a search saved under a name comes back from its link; test mode's banner and
// switch hide and show the sandbox orders. Screenshots in en and zh, and at 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts, signIn, createApiKey, createOrder } from './support.mjs';

let app;
let browser;
let apiKey;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  await app.addUser('s2', 'support', 's2-password-123');
  apiKey = await createApiKey(app);
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

async function search(page, text) {
  await page.fill('#f-q', text);
  await Promise.all([page.waitForURL((u) => u.searchParams.get('q') === text), page.click('#orders-search')]);
  await page.waitForSelector('#orders-table, #orders-empty, #f-q-problem');
}

async function rowsOf(page) {
  return page.$$eval('#orders-table tbody tr a.mono', (as) => as.map((a) => a.textContent.trim()));
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'js' : 'nojs';
  // Words of 3+ characters tell this run's orders from the other's.
  const tag = javaScriptEnabled ? 'withjs' : 'nojs';

  test(`a support agent finds orders from any fragment, saves a view and switches test mode (${mode})`, async () => {
    const latte = (await createOrder(app, apiKey, { amount: 1234, subject: `冰拿铁 Iced Latte ${tag}` })).out_trade_no;
    const tea = (await createOrder(app, apiKey, { amount: 800, subject: `乌龙茶 Oolong ${tag}` })).out_trade_no;
    const context = await browser.newContext({ javaScriptEnabled, locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchConsole(page, { javaScriptEnabled });
    await signIn(page, app.base, 's2', 's2-password-123', '/orders');
    await page.waitForSelector('#orders-filters');

    await search(page, latte.slice(-6).toLowerCase());
    assert.deepEqual(await rowsOf(page), [latte], 'the last six characters, lower case');
    await search(page, `拿铁 ${tag}`);
    assert.deepEqual(await rowsOf(page), [latte], 'a two-character Chinese word');
    await search(page, `8.00 oolong ${tag}`);
    assert.deepEqual(await rowsOf(page), [tea], 'an exact amount and a word');
    await page.screenshot({ path: join(artifacts, `order-search-en-${mode}.png`), fullPage: true });

    await search(page, 'status:paid stauts:closed');
    assert.match(await page.textContent('#f-q-problem'), /At character 13: “stauts” is not a search field/);
    assert.equal(await page.$('#orders-table'), null, 'no results under an error');
    await page.click('.lang-switch button[value=zh]');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    await page.goto(`${app.base}/orders?q=${encodeURIComponent('status:paid stauts:closed')}`);
    assert.match(await page.textContent('#f-q-problem'), /第 13 个字符处：“stauts”不是搜索字段/);
    await page.screenshot({ path: join(artifacts, `order-search-error-zh-${mode}.png`), fullPage: true });
    await page.click('.lang-switch button[value=en]');
    await page.waitForFunction(() => document.documentElement.lang === 'en');

    // Save a search, then open it from its link.
    await page.goto(`${app.base}/orders`);
    await search(page, `latte ${tag}`);
    await page.fill('#view-name', `Lattes ${mode}`);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('ok') === 'view_saved'), page.click('#save-view button[type=submit]')]);
    await page.waitForSelector('#view-list');
    await page.goto(`${app.base}/orders`);
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('q') === `latte ${tag}`),
      page.click(`#view-list a:text("Lattes ${mode}")`),
    ]);
    await page.waitForSelector('#orders-table');
    assert.deepEqual(await rowsOf(page), [latte]);

    // Test mode: on for a fresh install (sandbox channels only); off hides test orders.
    await page.waitForSelector('#test-banner');
    await Promise.all([page.waitForURL((u) => u.pathname === '/orders'), page.click('#test-mode-toggle')]);
    await page.waitForSelector('#orders-empty');
    assert.equal(await page.$('#test-banner'), null, 'no banner in live mode');
    await Promise.all([page.waitForURL((u) => u.pathname === '/orders'), page.click('#test-mode-toggle')]);
    await page.waitForSelector('#test-banner');
    await page.waitForSelector('#orders-table');

    // A phone: the page does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${app.base}/orders?q=${encodeURIComponent(`latte ${tag}`)}`);
    await page.waitForSelector('#orders-table');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: join(artifacts, `order-search-phone-${mode}.png`), fullPage: true });
    assert.ok(wide <= 0, `the orders page is ${wide} px wider than a phone`);
    assert.deepEqual(problems, []);
    await context.close();
  });
}
