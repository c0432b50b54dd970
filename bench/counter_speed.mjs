// Counter speed in the sandbox, against a running paydesk (what a browser at the till and
// the customer display ask for, without the browser's own rendering time):
//
// - "show QR": the till's POST /rpc/till_qr until the status page's HTML with the QR code
//   has arrived (server-side time: loopback HTTP, no wasm, no painting);
// - "scan → paid": from the scanner's Enter (POST /rpc/till_charge with a fresh
//   pay-at-once code from the Alipay sandbox wallet) until the till's status page says paid,
//   and until the customer display's event stream (GET /display/events) says paid.
//
//   node bench/counter_speed.mjs http://127.0.0.1:3000 USER PASSWORD [N=100]
//
// USER must be a merchant or an admin without a second sign-in step. Prints p50/p95/max.
const [base, user, password, nArg] = process.argv.slice(2);
if (!base || !user || !password) {
  console.error('usage: node bench/counter_speed.mjs BASE USER PASSWORD [N]');
  process.exit(2);
}
const n = Number(nArg ?? 100);
const form = { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base, Accept: 'text/html' };

async function signIn() {
  const r = await fetch(`${base}/auth/login`, {
    method: 'POST', redirect: 'manual', headers: form,
    body: new URLSearchParams({ username: user, password }),
  });
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('paydesk_session='));
  if (r.status !== 303 || !cookie) throw new Error(`sign-in failed (${r.status})`);
  return cookie.split(';')[0];
}

const cookie = await signIn();
const post = (path, body) => fetch(`${base}${path}`, {
  method: 'POST', redirect: 'manual', headers: { ...form, Cookie: cookie }, body: new URLSearchParams(body),
});
const page = (path) => fetch(`${base}${path}`, { headers: { Cookie: cookie } }).then((r) => r.text());

/** The customer display's stream: resolves `waitFor(status)` at the first such event. */
async function display() {
  const r = await fetch(`${base}/display/events`, { headers: { Cookie: cookie } });
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let waiting = null;
  let first;
  const ready = new Promise((ok) => { first = ok; });
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value);
      // The first event is what the display shows now (the last sale): not this one.
      if (first && buffer.includes('data:')) {
        buffer = '';
        first();
        first = null;
        continue;
      }
      if (waiting && buffer.includes(`"status":"${waiting.status}"`)) {
        buffer = '';
        waiting.resolve(performance.now());
        waiting = null;
      }
    }
  })();
  await ready;
  return {
    waitFor: (status) => new Promise((resolve) => { buffer = ''; waiting = { status, resolve }; }),
    close: () => reader.cancel(),
  };
}

async function walletCode() {
  const r = await fetch(`${base}/sandbox/wallet/alipay?mode=pay`, { redirect: 'manual' });
  const code = /[?&]code=(\d+)/.exec(r.headers.get('location') ?? '')?.[1];
  if (!code) throw new Error('no code from the sandbox wallet');
  return code;
}

const qrTimes = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const r = await post('/rpc/till_qr', { amount: '12.34', subject: 'bench' });
  const at = r.headers.get('location') ?? '';
  if (!at.startsWith('/checkout/')) throw new Error(`no QR: ${r.status} ${at}`);
  const html = await page(at);
  if (!html.includes('<svg')) throw new Error('the status page has no QR code');
  qrTimes.push(performance.now() - t0);
  await post('/rpc/close_checkout', { no: at.slice('/checkout/'.length) });
}

const tillTimes = [];
const displayTimes = [];
for (let i = 0; i < n; i++) {
  const code = await walletCode();
  const feed = await display();
  const onDisplay = feed.waitFor('paid');
  const t0 = performance.now();
  const r = await post('/rpc/till_charge', { amount: '12.34', subject: 'bench', auth_code: code });
  const at = r.headers.get('location') ?? '';
  if (!at.startsWith('/checkout/')) throw new Error(`not charged: ${r.status} ${at}`);
  const html = await page(at);
  if (!html.includes('status paid')) {
    throw new Error('the till does not say paid');
  }
  tillTimes.push(performance.now() - t0);
  const shown = await Promise.race([onDisplay, new Promise((ok) => setTimeout(() => ok(null), 5_000))]);
  if (shown === null) throw new Error('the display did not say paid within 5 s');
  displayTimes.push(shown - t0);
  await feed.close();
}

function report(label, times) {
  const t = [...times].sort((a, b) => a - b);
  const at = (q) => t[Math.min(t.length - 1, Math.floor(t.length * q))];
  console.log(`${label}: n=${t.length}, p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${t[t.length - 1].toFixed(1)} ms`);
}
report('show QR → QR on the till (server)', qrTimes);
report('scan → paid on the till', tillTimes);
report('scan → paid on the customer display', displayTimes);
process.exit(0);
