#!/bin/bash
# What counting a search in the search analytics costs: one server (the same binary, the same
# run) answering a cached search with `analytics=false` (not counted) and without it (counted:
# every request updates the same in-memory entry, the worst case for its shard's lock),
# alternated, with wrk at 64 connections (a 3 s warm-up, then 10 s measured each). Loopback
# only, bounded in time.
# usage: scripts/analytics-bench.sh target/release/aforro [ROUNDS]   (needs wrk, python3)
set -euo pipefail
BIN=$1; ROUNDS=${2:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
$BIN --data-dir $W/data --index-dir $W/index seed >/dev/null
$BIN --data-dir $W/data --index-dir $W/index reindex >/dev/null
$BIN --data-dir $W/data --index-dir $W/index serve --addr 127.0.0.1:18778 >$W/serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$W"' EXIT
for i in $(seq 1 100); do $BIN healthcheck --addr 127.0.0.1:18778 >/dev/null 2>&1 && break; sleep 0.1; done
BASE='http://127.0.0.1:18778/api/search/products/?q=steel+kettle'
measure() { # label url
  wrk -t2 -c64 -d3s "$2" >/dev/null   # warm-up (also fills the result cache)
  out=$(wrk -t2 -c64 -d10s --latency "$2")
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}'); p99=$(echo "$out" | awk '/ 99%/{print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/{print $4}')
  echo "$1 $rps req/s p99 $p99 non2xx=${non2xx:-0}"
}
for r in $(seq 1 $ROUNDS); do
  measure off "$BASE&analytics=false"
  measure on "$BASE"
done
