// Every page of the dashboard on a 390 px phone — each navigation entry of each role and
// the pages one click further (an order, its receipt, the refunds awaiting approval, every
// log tab, the credential forms and rotation panels, the sign-in page) — in English and
// Chinese, light and dark:
//   - the page never scrolls sideways (the failure names the page and the elements that
//     stick out), and tables are cards with the amount in view;
//   - axe-core finds no serious or critical accessibility problem;
//   - the first Tab is the skip link, and Enter on it puts the focus on the main content.
// On a 768 px tablet the log tables fit (nothing cut off at the right). Screenshots go to
// end2end/test-results/phone-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPaydesk, launchBrowser, watchConsole, artifacts } from './support.mjs';
import {
  seed, pagesFor, unvisitedNav, signInAs, sidewaysScroll, assertNoSidewaysScroll, cutOffTables, axeViolations,
} from './pages.mjs';

let app;
let browser;
let orders;

before(async () => {
  app = await startPaydesk();
  browser = await launchBrowser();
  orders = await seed(app, browser);
});

after(async () => {
  await browser?.close();
  const stopped = await app?.stop();
  assert.equal(stopped?.code, 0, `paydesk did not shut down cleanly:\n${stopped?.stderr}`);
});

const PHONE = { width: 390, height: 844 };

async function newPage({ lang, theme, viewport = PHONE }) {
  // bypassCSP: axe-core is injected as an inline script, which the pages' policy refuses.
  const context = await browser.newContext({ locale: 'en-US', viewport, deviceScaleFactor: 1, bypassCSP: true });
  await context.addCookies([
    { name: 'paydesk_lang', value: lang, url: app.base },
    { name: 'paydesk_theme', value: theme, url: app.base },
  ]);
  const page = await context.newPage();
  return { context, page, problems: watchConsole(page) };
}

async function open(page, p) {
  await page.goto(`${app.base}${p.path}`);
  await page.waitForSelector(p.ready);
  await page.waitForLoadState('networkidle');
}

/**
 * The skip link is the first element Tab reaches (on pages that put the focus in a field
 * at load — sign-in, the till — the first in Tab order), and Enter on it moves the focus to
 * the main content.
 */
async function assertSkipLink(page, what) {
  const autofocused = await page.evaluate(() => document.activeElement !== document.body);
  if (autofocused) {
    const first = await page.evaluate(() => [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
      .find((el) => el.tabIndex >= 0 && !el.disabled && el.type !== 'hidden')?.outerHTML.slice(0, 80));
    assert.match(first ?? '', /class="skip-link"/, `${what}: the skip link is first in Tab order`);
    await page.focus('a.skip-link');
  } else {
    await page.keyboard.press('Tab');
  }
  const first = await page.evaluate(() => {
    const a = document.activeElement;
    const r = a?.getBoundingClientRect();
    return { skip: a?.matches('a.skip-link') ?? false, href: a?.getAttribute('href'), visible: !!r && r.top >= 0 && r.width > 1 };
  });
  assert.ok(first.skip, `${what}: the first Tab is the skip link`);
  assert.ok(first.visible, `${what}: the focused skip link is on screen`);
  await page.keyboard.press('Enter');
  const target = await page.evaluate(() => ({ tag: document.activeElement?.tagName, id: document.activeElement?.id }));
  assert.deepEqual(target, { tag: 'MAIN', id: first.href.slice(1) }, `${what}: Enter on the skip link focuses the main content`);
}

// Each role in both languages and both themes; between them every pairing of language
// and theme (layout.test.mjs has all four at 768 and 1440 px too).
const COMBINATIONS = {
  admin: [{ lang: 'en', theme: 'light' }, { lang: 'zh', theme: 'dark' }],
  support: [{ lang: 'en', theme: 'dark' }, { lang: 'zh', theme: 'light' }],
  merchant: [{ lang: 'zh', theme: 'light' }, { lang: 'en', theme: 'dark' }],
};

for (const [role, combos] of Object.entries(COMBINATIONS)) {
  for (const [n, combo] of combos.entries()) {
    const { lang, theme } = combo;
    const tag = `${lang}-${theme}`;

    test(`${role}: every page at 390px in ${lang}, ${theme} theme: no sideways scrolling, no serious axe violations`, async () => {
      const { context, page, problems } = await newPage(combo);
      const failures = [];
      const pages = pagesFor(role, orders);

      if (role === 'admin') {
        await page.goto(`${app.base}/login`);
        await page.waitForSelector('#username');
        await page.waitForLoadState('networkidle');
        failures.push(await sidewaysScroll(page, `login (${tag})`));
        await assertSkipLink(page, `login (${tag})`);
        failures.push(...(await axeViolations(page)).map((v) => `login (${tag}): ${v}`));
        await page.screenshot({ path: join(artifacts, `phone-login-${tag}.png`), fullPage: true });
      }
      await signInAs(page, app, role);
      assert.deepEqual(await unvisitedNav(page, pages), [], `${role}: navigation entries this journey does not visit`);

      for (const p of pages) {
        const what = `${p.name} (${tag})`;
        await open(page, p);
        failures.push(await sidewaysScroll(page, what));
        if (n === 0) {
          await assertSkipLink(page, what);
          await page.evaluate(() => { document.activeElement?.blur?.(); window.scrollTo(0, 0); });
        }
        failures.push(...(await axeViolations(page)).map((v) => `${what}: ${v}`));
        await page.screenshot({ path: join(artifacts, `phone-${p.name.replace('/', '-')}-${tag}.png`), fullPage: true });
      }
      const found = failures.filter(Boolean);
      assert.deepEqual(found, [], `sideways scrolling and axe-core's serious or critical violations:\n${found.join('\n')}`);
      assert.deepEqual(problems, [], 'no console errors or hydration warnings');
      await context.close();
    });
  }
}

test('phone tables are cards: every cell in view, the amount of every order too', async () => {
  for (const lang of ['en', 'zh']) {
    const { context, page } = await newPage({ lang, theme: 'light' });
    await signInAs(page, app, 'admin');
    for (const p of pagesFor('admin', orders).filter((x) => /orders$|refunds$|logs-/.test(x.name))) {
      await open(page, p);
      const hidden = await page.$$eval('table.data td', (cells) => cells
        .filter((td) => td.getClientRects().length && td.textContent.trim())
        .filter((td) => { const r = td.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; })
        .map((td) => td.textContent.trim().slice(0, 40)));
      assert.deepEqual(hidden, [], `${p.name} (${lang}): cells out of view at 390px`);
      assert.deepEqual(await cutOffTables(page), [], `${p.name} (${lang}): tables cut off at 390px`);
    }
    // The orders list: each card shows its amount, grouped in thousands.
    await open(page, { path: '/orders', ready: '#orders-table' });
    const amounts = await page.$$eval('#orders-table tbody tr', (rows) => rows.map((tr) => {
      const cell = tr.querySelector('td.num');
      const r = cell?.getBoundingClientRect();
      return { text: cell?.textContent ?? '', inView: !!r && r.width > 0 && r.left >= 0 && r.right <= window.innerWidth };
    }));
    assert.ok(amounts.length >= 5, 'orders shown');
    assert.ok(amounts.every((a) => a.inView), `${lang}: every order's amount is in view`);
    assert.ok(amounts.some((a) => a.text.includes('¥1,234,567.89')), `${lang}: the large amount is grouped`);
    await page.screenshot({ path: join(artifacts, `phone-orders-cards-${lang}.png`), fullPage: true });
    await context.close();
  }
});

test('the overview keeps a large amount inside its card at 390px', async () => {
  const { context, page } = await newPage({ lang: 'zh', theme: 'light' });
  await signInAs(page, app, 'admin');
  await open(page, { path: '/', ready: '#overview' });
  const spill = await page.$$eval('.kpi', (cards) => cards.flatMap((card) => {
    const box = card.getBoundingClientRect();
    return [...card.querySelectorAll('*')]
      .filter((el) => { const r = el.getBoundingClientRect(); return r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5); })
      .map((el) => `${el.className || el.tagName}: ${el.textContent.trim().slice(0, 40)}`);
  }));
  assert.deepEqual(spill, [], 'nothing sticks out of an overview card');
  assert.match(await page.textContent('#overview'), /¥1,234,\d{3}\.\d{2}/, 'the volume is grouped in thousands');
  await context.close();
});

test('log tables fit a 768px tablet in English and Chinese', async () => {
  for (const lang of ['en', 'zh']) {
    const { context, page } = await newPage({ lang, theme: 'dark', viewport: { width: 768, height: 1024 } });
    await signInAs(page, app, 'admin');
    for (const p of pagesFor('admin', orders).filter((x) => x.name.includes('logs-'))) {
      await open(page, p);
      const what = `${p.name} (${lang}, 768px)`;
      await assertNoSidewaysScroll(page, what);
      assert.deepEqual(await cutOffTables(page), [], `${what}: tables cut off`);
      await page.screenshot({ path: join(artifacts, `tablet-${p.name.replace('/', '-')}-${lang}.png`), fullPage: true });
    }
    await context.close();
  }
});
