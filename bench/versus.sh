#!/usr/bin/env bash
# paydesk against the seed design (Go + Gin peer, bench/peer) under wrk, alternating in
# one run, on SQLite or Postgres. Loopback only, bounded (each wrk run stops when its
# notifications are answered, 120 s at most).
#
#   bench/versus.sh [sqlite|postgres] [ROUNDS] [COUNT]
#
# Installs what is missing with apt (wrk, Go, Gin, go-sqlite3, lib/pq), builds the peer
# from Debian's packaged Go sources (GOPATH mode, offline) into the target directory, and
# the release server and bench with cargo. Writes a Markdown table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:-sqlite}
ROUNDS=${2:-3}
COUNT=${3:-40000}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/paydesk/target}
# cargo builds where this script looks (scripts/lib.sh does the same).
export CARGO_TARGET_DIR=$TARGET
PG=${VERSUS_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v go >/dev/null || need+=(golang)
for p in golang-github-gin-gonic-gin-dev golang-github-mattn-go-sqlite3-dev golang-github-lib-pq-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  echo "installing ${need[*]}…" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
fi

# Debian's Go packages are sources under /usr/share/gocode: build in GOPATH mode, nothing
# is downloaded.
PEER="$TARGET/versus-peer/peer"
mkdir -p "$(dirname "$PEER")"
GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
  GOCACHE="$TARGET/versus-peer/gocache" go build -o "$PEER" ./bench/peer/

cargo build --release -q -p paydesk-server -p paydesk-bench
echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
"$TARGET/release/paydesk-bench" --postgres "$PG" versus --database "$DB" \
  --rounds "$ROUNDS" --count "$COUNT" --peer-bin "$PEER" --wrk-script bench/wrk/notify.lua
