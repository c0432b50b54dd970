// The shipped front end, as a browser gets it with a cold cache: every page hydrates with
// no console problem, the bundle arrives compressed under hashed names that are cached for
// a year, and signed-in pages are never stored.
// Prints, per page, bytes on the wire and the time until the page is interactive
// (hydrated: `<html data-hydrated>`), the figures in BENCHMARKS.md ("Page speed").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPaydesk, launchBrowser, watchConsole, signIn, createApiKey, paidOrder } from './support.mjs';

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

/** Loads `path` in a fresh (cold-cache) context already signed in; returns its figures. */
async function coldVisit(cookies, path) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  await context.addCookies(cookies);
  const page = await context.newPage();
  const problems = watchConsole(page);
  const responses = [];
  page.on('response', (r) => responses.push(r));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let wire = 0;
  cdp.on('Network.loadingFinished', (e) => { wire += e.encodedDataLength; });
  await page.goto(`${app.base}${path}`);
  await page.waitForSelector('html[data-hydrated]', { timeout: 10_000 });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { ttfb: nav.responseStart, interactive: performance.now() };
  });
  const document = responses.find((r) => r.request().resourceType() === 'document');
  const html = document ? await document.allHeaders() : null;
  const bundle = [];
  for (const r of responses.filter((r) => new URL(r.url()).pathname.startsWith('/pkg/'))) {
    bundle.push({ name: new URL(r.url()).pathname, headers: await r.allHeaders() });
  }
  await context.close();
  return { problems, html, bundle, wire, timing };
}

test('release bundle: hydrates, compressed, hashed, cached; pages not stored', async () => {
  const key = await createApiKey(app);
  const no = await paidOrder(app, key, { amount: 1250 });
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, app.base, 'admin', app.password);
  const cookies = await context.cookies();
  await context.close();

  const rows = [];
  for (const path of ['/login', '/', '/checkout', '/orders', `/orders/${no}`]) {
    const visit = await coldVisit(path === '/login' ? [] : cookies, path);
    assert.deepEqual(visit.problems, [], `${path}: no console problems`);
    assert.ok(visit.html, `${path}: the document`);
    const htmlHeaders = visit.html;
    assert.equal(htmlHeaders['cache-control'], 'no-store', `${path}: pages are never stored`);
    assert.match(htmlHeaders['content-encoding'] ?? '', /^(br|gzip)$/, `${path}: the page is compressed`);
    // The page hydrated under a strict policy (a violation would be a console problem).
    const csp = htmlHeaders['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}' 'wasm-unsafe-eval'/, `${path}: nonce CSP`);
    assert.match(csp, /frame-ancestors 'none'/, `${path}: not framable`);
    assert.doesNotMatch(csp, /unsafe-inline/, `${path}: no inline allowance`);
    const kinds = new Set();
    for (const { name, headers: h } of visit.bundle) {
      assert.match(name, /^\/pkg\/paydesk\.[A-Za-z0-9_-]{16}\.(js|wasm|css)$/, `${name}: a content-hashed name`);
      assert.equal(h['content-encoding'], 'br', `${name}: sent with brotli`);
      assert.equal(h['cache-control'], 'public, max-age=31536000, immutable', `${name}: cached for a year`);
      kinds.add(name.split('.').pop());
    }
    assert.deepEqual([...kinds].sort(), ['css', 'js', 'wasm'], `${path}: script, wasm and stylesheet`);
    rows.push(`| ${path.startsWith('/orders/') ? '/orders/{no}' : path} | ${(visit.wire / 1000).toFixed(0)} kB | ${visit.timing.ttfb.toFixed(0)} ms | ${visit.timing.interactive.toFixed(0)} ms |`);
  }
  console.log(['| page (cold cache) | bytes on the wire | first byte | interactive |', '|---|---|---|---|', ...rows].join('\n'));
});
