# Shared by scripts/run.sh and scripts/test.sh: installs what a fresh machine lacks.
# Versions are pinned to what builds on Rust 1.95.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Builds live outside the clone so a fresh clone (CI) starts warm.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/paydesk/target}
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_VERSION=0.2.129

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_build_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (~5 min on 2 cores, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked
  fi
  # binaryen's wasm-opt from npm (a current release: Debian's binaryen 108 rewrites the
  # externref table that wasm-bindgen 0.2.129 emits wrongly, and hydration then fails).
  if [ ! -x "$ROOT/scripts/site/node_modules/.bin/wasm-opt" ]; then
    say "installing the site build tools (binaryen from npm)"
    (cd "$ROOT/scripts/site" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The wasm's size limit with brotli (BENCHMARKS.md, "Front end size"): the build fails past it.
WASM_BROTLI_BUDGET=${WASM_BROTLI_BUDGET:-200000}

# Builds the server binary (cargo profile $1: release or dev) and the front end into
# target/site: the hydrate wasm (profile wasm-release), wasm-bindgen, wasm-opt -Oz, then
# content-hashed, precompressed files (scripts/site/assemble.mjs). The same steps for the
# run command and the browser tests, so what is tested is what runs.
build_site() {
  local profile=$1
  local wasm_dir="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release"
  local work="$CARGO_TARGET_DIR/site-build"
  say "building the front end (wasm, release) and the server ($profile), side by side"
  cargo build --profile wasm-release -p paydesk-app --lib --target wasm32-unknown-unknown \
    --no-default-features --features hydrate &
  local wasm_pid=$!
  cargo build --profile "$profile" -p paydesk-server --bin paydesk || { wait "$wasm_pid"; return 1; }
  wait "$wasm_pid"
  rm -rf "$work" && mkdir -p "$work"
  wasm-bindgen --target web --no-typescript --out-dir "$work" --out-name paydesk \
    "$wasm_dir/paydesk_app.wasm"
  say "optimising the wasm (binaryen wasm-opt -Oz)"
  # The features rustc 1.95 enables for wasm32-unknown-unknown by default.
  "$ROOT/scripts/site/node_modules/.bin/wasm-opt" -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-multivalue --enable-mutable-globals \
    "$work/paydesk_bg.wasm" -o "$work/paydesk_bg.opt.wasm"
  mv "$work/paydesk_bg.opt.wasm" "$work/paydesk_bg.wasm"
  node "$ROOT/scripts/site/assemble.mjs" --bindgen "$work" --css "$ROOT/style/main.css" \
    --public "$ROOT/public" --out "$ROOT/target/site" --budget "$WASM_BROTLI_BUDGET"
}

ensure_chromium() {
  # A CJK font so the Chinese pages in screenshots are readable, not boxes.
  if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'wqy\|noto sans cjk'; then
    say "installing Debian chromium and a CJK font"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
  fi
}

ensure_node_packages() {
  # Every package the journeys load (a checkout that predates one installs it too).
  if [ ! -d "$ROOT/end2end/node_modules/playwright-core" ] || [ ! -d "$ROOT/end2end/node_modules/axe-core" ]; then
    say "installing end2end npm packages"
    # playwright-core never downloads a browser; we drive Debian's chromium.
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Starts the local Postgres if it is installed but down (the store tests use it).
ensure_postgres() {
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if [ -d /etc/postgresql ]; then
      say "starting the local PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    fi
  fi
}
