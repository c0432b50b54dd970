#!/usr/bin/env bash
# Builds and runs paydesk on http://127.0.0.1:3000 with SQLite in ./data — no configuration.
source "$(dirname "$0")/lib.sh"
ensure_build_tools
cd "$ROOT"
build_site release
say "starting paydesk"
exec "$CARGO_TARGET_DIR/release/paydesk" serve "$@"
