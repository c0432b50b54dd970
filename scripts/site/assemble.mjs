// Assembles the site that `paydesk serve` serves (PAYDESK_SITE_ROOT, default target/site)
// from the wasm-bindgen output, the stylesheet and public/:
//
//   site/favicon.svg …                 public/ as it is
//   site/hash.txt                      "js: H", "wasm: H", "css: H" (read by the server)
//   site/pkg/paydesk.H.{js,wasm,css}   content-hashed, so the server can let browsers
//                                      cache them for a year (immutable)
//   site/pkg/*.br, *.gz                precompressed copies, served when accepted
//
// and fails when the wasm compressed with brotli is over the size budget.
//
// usage: node assemble.mjs --bindgen DIR --css FILE --public DIR --out DIR [--budget BYTES]
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const { values: args } = parseArgs({
  options: {
    bindgen: { type: 'string' },
    css: { type: 'string' },
    public: { type: 'string' },
    out: { type: 'string' },
    budget: { type: 'string' },
  },
});
for (const need of ['bindgen', 'css', 'public', 'out']) {
  if (!args[need]) throw new Error(`--${need} is required`);
}

const NAME = 'paydesk';
const hash = (bytes) => createHash('sha256').update(bytes).digest('base64url').slice(0, 16);
const brotli = (bytes) => brotliCompressSync(bytes, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
  },
});
const gzip = (bytes) => gzipSync(bytes, { level: 9 });

const files = {
  js: readFileSync(join(args.bindgen, `${NAME}.js`)),
  wasm: readFileSync(join(args.bindgen, `${NAME}_bg.wasm`)),
  css: readFileSync(args.css),
};

// A new site replaces the old one whole: stale hashed files would otherwise pile up.
rmSync(args.out, { recursive: true, force: true });
const pkg = join(args.out, 'pkg');
mkdirSync(pkg, { recursive: true });
if (existsSync(args.public)) cpSync(args.public, args.out, { recursive: true });

const hashes = [];
const sizes = {};
for (const [kind, bytes] of Object.entries(files)) {
  const h = hash(bytes);
  const file = join(pkg, `${NAME}.${h}.${kind}`);
  const br = brotli(bytes);
  const gz = gzip(bytes);
  writeFileSync(file, bytes);
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  hashes.push(`${kind}: ${h}`);
  sizes[kind] = { raw: bytes.length, gzip: gz.length, brotli: br.length };
}
writeFileSync(join(args.out, 'hash.txt'), `${hashes.join('\n')}\n`);

const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
for (const [kind, s] of Object.entries(sizes)) {
  console.error(`  ${kind.padEnd(4)} raw ${kb(s.raw).padStart(9)}  gzip ${kb(s.gzip).padStart(9)}  brotli ${kb(s.brotli).padStart(9)}`);
}
if (args.budget) {
  const budget = Number(args.budget);
  if (!(budget > 0)) throw new Error(`--budget must be a number of bytes, not ${args.budget}`);
  if (sizes.wasm.brotli > budget) {
    console.error(`error: the wasm is ${kb(sizes.wasm.brotli)} with brotli, over the budget of ${kb(budget)} (BENCHMARKS.md, "Front end size")`);
    process.exit(1);
  }
}
