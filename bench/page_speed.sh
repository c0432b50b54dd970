#!/usr/bin/env bash
# Server render time of the dashboard pages, as the README's run command builds them:
# starts the release binary on a fresh SQLite database with ORDERS seeded orders (default
# 100,000), signs in as admin, then GETs each page ROUNDS times (default 200) over one
# keep-alive connection and prints p50 / p95 / max of curl's time to first byte, and the
# compressed size of the page. 127.0.0.1 only; stops the server at the end.
#
#   ./scripts/run.sh (once, to build) && bench/page_speed.sh [ORDERS] [ROUNDS]
#
# Bytes on the wire and time until interactive in chromium with a cold cache come from
# end2end/tests/release_bundle.test.mjs (it prints a table).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ORDERS=${1:-100000}
ROUNDS=${2:-200}
BIN=${PAYDESK_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/paydesk/target}/release/paydesk}
PORT=${PORT:-3931}
BASE="http://127.0.0.1:$PORT"
DATA=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; [ -n "${KEEP_DATA:-}" ] && echo "data kept in $DATA" >&2 || rm -rf "$DATA"' EXIT

PAYDESK_DATA_DIR="$DATA" PAYDESK_ADDR="127.0.0.1:$PORT" PAYDESK_SITE_ROOT="$ROOT/target/site" \
  RUST_LOG=warn "$BIN" serve >"$DATA/out.log" 2>"$DATA/err.log" &
PID=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$BASE/readyz" && break; sleep 0.2; done
PASSWORD=$(sed -n 's/^ *password: *//p' "$DATA/out.log" | head -1)

# Orders over the last 30 days: 70 % paid (with paid_at, so the overview has figures),
# the rest pending, closed or refunded; three channels; amounts 1.00-999.99.
python3 - "$DATA/paydesk.db" "$ORDERS" <<'EOF'
import sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
step = 30 * 86_400_000 // max(n, 1)
states = ["paid"] * 7 + ["pending", "closed", "refunded"]
chans = ["alipay-sandbox", "wechatpay-sandbox", "stripe-sandbox"]
def rows():
    for i in range(n):
        at = now - i * step
        st = states[i % 10]
        cur = "USD" if i % 3 == 2 else "CNY"
        paid = at + 30_000 if st in ("paid", "refunded") else None
        yield (f"seed-{i}", f"S{i:012d}", chans[i % 3], 100 + (i * 7919) % 99900, cur,
               f"seeded order {i}", st, f"T{i:012d}" if paid else None, "admin",
               at, at, at + 900_000, paid, 1)
c = sqlite3.connect(db)
c.executemany(
    "INSERT INTO orders (id, out_trade_no, channel, amount_minor, currency, subject, status, "
    "provider_trade_no, creator, created_at, updated_at, expires_at, paid_at, version) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
c.commit()
c.execute("ANALYZE")
c.close()
EOF
# Written behind the store's back: recompute the overview's roll-up from them.
PAYDESK_DATA_DIR="$DATA" "$BIN" rebuild-stats >/dev/null

JAR="$DATA/cookies"
curl -fs -o /dev/null -c "$JAR" -X POST "$BASE/auth/login" \
  --data-urlencode "username=admin" --data-urlencode "password=$PASSWORD"
DETAIL="/orders/S000000000042"
printf '| page (%s orders) | SSR p50 | SSR p95 | max | HTML (br) |\n|---|---|---|---|---|\n' "$ORDERS"
for page in /login / /checkout /orders "$DETAIL"; do
  jar=(-b "$JAR")
  [ "$page" = /login ] && jar=()
  urls=()
  for _ in $(seq "$ROUNDS"); do urls+=(-o /dev/null "$BASE$page"); done
  # One connection for all rounds: time_starttransfer is then the server's render time.
  curl -s "${jar[@]}" -H 'Accept-Encoding: br' -w '%{time_starttransfer} %{size_download}\n' \
    "${urls[@]}" >"$DATA/t"
  sort -n "$DATA/t" | awk -v page="$page" '
    { t[NR] = $1 * 1000; s = $2 }
    END {
      p50 = t[int(NR * 0.50 + 0.5)]; p95 = t[int(NR * 0.95 + 0.5)];
      printf "| `%s` | %.1f ms | %.1f ms | %.1f ms | %.1f kB |\n", page, p50, p95, t[NR], s / 1000
    }'
done
