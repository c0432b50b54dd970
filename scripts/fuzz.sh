#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers and verifiers (FUZZING.md), with AFL++ through
# afl.rs on stable Rust.
#
#   scripts/fuzz.sh [TARGET|all] [EXECS]
#
# Installs cargo-afl (pinned) and builds AFL++ when missing, builds the instrumented
# targets in fuzz/, then runs each target from its committed seeds (fuzz/seeds/TARGET)
# with its dictionary until EXECS executions (default 1,000,000) and stops by itself.
# Each seed is first replayed once (a crashing seed is a regression). Prints executions,
# time, speed, corpus, coverage and crashes per target, and exits 1 if a seed crashed or
# the fuzzer found a crash or hang (the inputs are kept under the output directory).
# PAYDESK_FUZZ_SKIP_BUILD=1 runs the targets as last built.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
AFL_RS_VERSION=0.17.1
TARGETS=(alipay_notify alipay_response wechatpay_notify wechatpay_resource stripe_webhook money order_filter export_csv)

target=${1:-all}
execs=${2:-1000000}
if [ "$target" = all ]; then
  run=("${TARGETS[@]}")
elif printf '%s\n' "${TARGETS[@]}" | grep -qx -- "$target"; then
  run=("$target")
else
  echo "unknown target '$target'; one of: all ${TARGETS[*]}" >&2
  exit 2
fi
case $execs in '' | *[!0-9]*) echo "EXECS must be a number" >&2; exit 2 ;; esac

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The instrumented build uses other compiler flags than the product: its own directory,
# so neither build invalidates the other.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/paydesk/target}/afl"
OUT="$CARGO_TARGET_DIR/findings"

if ! cargo afl --version 2>/dev/null | grep -q "$AFL_RS_VERSION"; then
  say "installing cargo-afl $AFL_RS_VERSION"
  cargo install cargo-afl --version "$AFL_RS_VERSION" --locked --force
fi
# AFL++ itself (afl-fuzz and its runtime) is built from the source cargo-afl ships, once.
if ! msg=$(cargo afl config --build 2>&1); then
  case $msg in
    *"already built"*) ;;
    *) echo "$msg" >&2; exit 1 ;;
  esac
fi

if [ -z "${PAYDESK_FUZZ_SKIP_BUILD:-}" ]; then
  say "building the fuzz targets (instrumented, release)"
  (cd "$ROOT/fuzz" && cargo afl build --release --locked --features web --bins)
fi

# No core-dump handler, no CPU-frequency tuning, no pinning: this is a shared machine.
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_NO_UI=1 AFL_QUIET=1

status=0
printf '%-20s %12s %8s %10s %8s %10s %8s %6s\n' target execs seconds execs/s corpus coverage crashes hangs
for t in "${run[@]}"; do
  dir="$OUT/$t"
  rm -rf "$dir"
  mkdir -p "$dir"
  bin="$CARGO_TARGET_DIR/release/$t"
  # Every seed once, in a process of its own: a seed that crashes is a regression of a
  # fixed finding (afl-fuzz would only skip it with a warning).
  seeds_ok=1
  for s in "$ROOT/fuzz/seeds/$t"/*; do
    if ! "$bin" <"$s" >/dev/null 2>"$dir/seed.err"; then
      echo "  $t: seed $(basename "$s") crashes the target:" >&2
      grep -m 3 -E "panicked|attempt|assert" "$dir/seed.err" >&2 || tail -n 3 "$dir/seed.err" >&2
      seeds_ok=0
    fi
  done
  if [ $seeds_ok = 0 ]; then
    status=1
    continue
  fi
  start=$(date +%s)
  # -E: stop after about EXECS executions; -t 2000: an input slower than 2 s is a hang
  # (a fixed limit: the auto-scaled one drops to a few ms and, on a busy machine, kills
  # healthy runs).
  cargo afl fuzz -i "$ROOT/fuzz/seeds/$t" -o "$dir" -x "$ROOT/fuzz/dicts/$t.dict" \
    -E "$execs" -t 2000 -- "$bin" >"$dir/afl.log" 2>&1 || {
    echo "afl-fuzz failed for $t; last lines of $dir/afl.log:" >&2
    tail -n 20 "$dir/afl.log" >&2
    status=1
    continue
  }
  secs=$(($(date +%s) - start))
  stats="$dir/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  done_execs=$(get execs_done)
  crashes=$(get saved_crashes)
  hangs=$(get saved_hangs)
  printf '%-20s %12s %8s %10s %8s %10s %8s %6s\n' "$t" "$done_execs" "$secs" \
    "$((done_execs / (secs > 0 ? secs : 1)))" "$(get corpus_count)" "$(get bitmap_cvg)" "$crashes" "$hangs"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    echo "  $t: inputs in $dir/default/crashes and $dir/default/hangs" >&2
    status=1
  fi
done
exit $status
