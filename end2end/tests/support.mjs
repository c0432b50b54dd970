// Starts a real paydesk process on a free loopback port with a fresh SQLite data dir,
// and launches Debian's chromium through playwright-core (which never downloads a browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const artifacts = join(here, '..', 'test-results');
mkdirSync(artifacts, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the release binary on a free port with a fresh data directory; `env` adds
 *  settings (e.g. `PAYDESK_CODE_WAIT_SECONDS`). */
export async function startPaydesk({ env = {} } = {}) {
  const bin = process.env.PAYDESK_BIN;
  const siteRoot = process.env.PAYDESK_SITE_ROOT;
  if (!bin || !siteRoot) throw new Error('set PAYDESK_BIN and PAYDESK_SITE_ROOT (scripts/test.sh does)');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'paydesk-e2e-'));
  const child = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      PAYDESK_ADDR: `127.0.0.1:${port}`,
      PAYDESK_DATA_DIR: dataDir,
      PAYDESK_SITE_ROOT: siteRoot,
      RUST_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`paydesk exited early:\n${stderr}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`paydesk did not become ready:\n${stderr}`); }
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false);
    const password = /password:\s+(\S+)/.exec(stdout)?.[1];
    if (ready && password) {
      return {
        base,
        password,
        dataDir,
        /** Runs `paydesk <args>` against this instance's data directory. */
        cli: (args, input = '') => runCli(bin, dataDir, args, input),
        /** Adds a dashboard user with this role through the CLI. */
        addUser: (name, role, userPassword) =>
          runCli(bin, dataDir, ['user', 'add', name, '--role', role], `${userPassword}\n`),
        stop: () => new Promise((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr }); });
          child.kill('SIGTERM');
        }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Collects console errors and warnings (hydration problems show up here). */
export function watchConsole(page, { javaScriptEnabled = true } = {}) {
  const problems = [];
  page.on('console', (msg) => {
    // With JavaScript off nothing can use the wasm that the page preloads for its islands,
    // and Chromium says so once a page has been open a few seconds.
    if (!javaScriptEnabled && /preloaded using link preload but not used/.test(msg.text())) return;
    if (msg.type() === 'error' || msg.type() === 'warning') {
      const where = msg.location()?.url;
      problems.push(`${msg.type()}: ${msg.text()}${where ? ` (${where})` : ''}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

function runCli(bin, dataDir, args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { ...process.env, PAYDESK_DATA_DIR: dataDir, RUST_LOG: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', reject);
    // A command that needs no input may exit before its stdin is written: that EPIPE is not
    // a failure (the exit code below says whether the command worked).
    child.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    child.once('exit', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`paydesk ${args.join(' ')} failed (${code}):\n${stderr}`));
    });
    child.stdin.end(input);
  });
}

/** Signs in through the login form (works with and without JavaScript). */
export async function signIn(page, base, username, password, next = '/') {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit].primary');
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  if (next !== '/') await page.goto(`${base}${next}`);
}

/**
 * Sets the two-step sign-in policy on the security page as the bootstrap admin ('' for no
 * role, 'auto' for the default: admins once a live channel exists). Suites about other
 * things that add live channels and sign in again turn it off first; two-step sign-in
 * has its own suite (twofa_approval.test.mjs).
 */
export async function setTwoFaPolicy(browser, app, value) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, app.base, 'admin', app.password, '/security');
  await page.selectOption('#twofa-policy', value);
  await page.click('#twofa-policy-form button[type=submit]');
  await page.waitForURL((u) => u.searchParams.get('ok') === 'saved');
  await context.close();
}

/** Creates a merchant API key through the CLI and returns it. */
export async function createApiKey(app, name = 'pos') {
  const { stdout } = await app.cli(['apikey', 'create', name]);
  const key = stdout.split('\n')[0].trim();
  if (!key.startsWith('pdk_')) throw new Error(`the CLI printed no API key:\n${stdout}`);
  return key;
}

/** A sandbox checkout created through the merchant API (pending until paid). */
export async function createOrder(app, apiKey, { amount, channel = 'alipay-sandbox', currency = 'CNY', subject = '乌龙茶 Oolong', notifyUrl } = {}) {
  const res = await fetch(`${app.base}/api/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel, amount, currency, subject, ...(notifyUrl ? { notify_url: notifyUrl } : {}) }),
  });
  if (res.status !== 201) throw new Error(`checkout refused (${res.status}): ${await res.text()}`);
  return res.json();
}

/** Pays `order` on the sandbox wallet page and waits (bounded) until paydesk knows. */
export async function payOrder(app, apiKey, order) {
  const pay = await fetch(`${order.qr_code}/pay`, {
    method: 'POST',
    redirect: 'manual',
    headers: { Origin: app.base, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: '',
  });
  if (pay.status !== 303) throw new Error(`the sandbox wallet did not take the payment (${pay.status})`);
  // The sandbox notifies asynchronously.
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${app.base}/api/v1/orders/${order.out_trade_no}`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    if ((await r.json()).status === 'paid') return order.out_trade_no;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`order ${order.out_trade_no} was not paid within 10 s`);
}

/** A sandbox order created through the merchant API and paid; returns its number. */
export async function paidOrder(app, apiKey, options) {
  return payOrder(app, apiKey, await createOrder(app, apiKey, options));
}
