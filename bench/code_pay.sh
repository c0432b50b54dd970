#!/usr/bin/env bash
# Till speed in the sandbox: from the scanner's Enter (the POST of the customer's code) to
# the answer "paid", through the merchant API of a running paydesk, N sales one after the
# other. Each sale takes a fresh single-use code from the Alipay sandbox wallet first (not
# timed). Prints p50/p95/max in ms.
#
#   bench/code_pay.sh http://127.0.0.1:3000 pdk_… [N=200] [wallet=alipay]
set -euo pipefail
base=${1:?base URL}
key=${2:?API key}
n=${3:-200}
wallet=${4:-alipay}
times=()
for ((i = 0; i < n; i++)); do
  loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$base/sandbox/wallet/$wallet?mode=pay")
  code=$(sed -E 's/.*[?&]code=([0-9]+).*/\1/' <<<"$loc")
  out=$(curl -s -w '\n%{time_total}' "$base/api/v1/orders" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d "{\"amount\":1234,\"currency\":\"CNY\",\"subject\":\"bench\",\"auth_code\":\"$code\"}")
  grep -q '"pay_result":"paid"' <<<"$out" || { echo "sale $i not paid: $out" >&2; exit 1; }
  times+=("$(tail -1 <<<"$out")")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$n" '
  { t[NR] = $1 * 1000 }
  END { printf "code sales: %d, p50 %.1f ms, p95 %.1f ms, max %.1f ms\n",
        n, t[int(n * 0.5)], t[int(n * 0.95)], t[n] }'
