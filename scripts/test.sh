#!/usr/bin/env bash
# Runs every test: lint, unit, store (SQLite + Postgres), HTTP, browser. Non-zero on any failure.
source "$(dirname "$0")/lib.sh"
ensure_build_tools
ensure_chromium
ensure_node_packages
ensure_postgres
cd "$ROOT"

say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p paydesk-app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

say "server-only crates must not reach the wasm build"
forbidden='^(sqlx|argon2|tokio|axum|axum-login|tower-sessions|reqwest|rsa|aes-gcm|figment|libsqlite3-sys) '
if cargo tree -p paydesk-app --target wasm32-unknown-unknown --no-default-features --features hydrate \
     -e normal --prefix none | sort -u | grep -E "$forbidden"; then
  echo "error: the crates above would be compiled into the browser bundle" >&2
  exit 1
fi

say "unit, store (SQLite + Postgres) and HTTP tests"
# Bounded, so a hang fails loudly instead of eating the CI budget. cargo-nextest (on this
# kind of machine) also bounds each test and retries a flaky one (see .config/nextest.toml);
# plain cargo test where it is missing.
if cargo nextest --version >/dev/null 2>&1; then
  timeout 1200 cargo nextest run --workspace
  timeout 600 cargo test --workspace --doc
else
  timeout 1200 cargo test --workspace
fi

# The browser tests run the build that ./scripts/run.sh ships: the release server and the
# optimised, hashed, precompressed front end. Bounded at 15 min: with every page checked at
# 390 px and by axe-core the set took up to 9 min 40 s on a 2-core machine shared with other
# builds (2026-12-04), too close to the old 10 min.
build_site release
say "browser tests (headless Debian chromium, release build)"
PAYDESK_BIN="$CARGO_TARGET_DIR/release/paydesk" PAYDESK_SITE_ROOT="$ROOT/target/site" \
  timeout 900 node --test --test-concurrency=1 end2end/tests/
say "all tests passed"
