#!/usr/bin/env bash
# The HTTP search mix against a fresh server (docs/performance.md, "The scripts and benchmarks").
#
#   scripts/search-mix.sh DIR [CLIENTS...]      # DIR holds data/ and index/ (e.g. a 1M catalog)
#   MIX_BIN=path/to/aforro MIX_LOG_DIR=/tmp scripts/search-mix.sh DIR 64 8
#
# Starts `aforro serve` on DIR, warms it for 10 s at 8 clients (the browse orders are computed
# on first use), then runs the `search` workload for 20 s per client count, printing the
# harness's summary and the server's CPU time per run. Each run's requests go to
# MIX_LOG_DIR/search-mix-CLIENTS.tsv (latency, status, path; slowest first). Needs
# `cargo build --release --bin aforro --example load`. Loopback only; every run is bounded.
set -u
cd "$(dirname "$0")/.."
DIR=${1:?usage: scripts/search-mix.sh DIR [CLIENTS...]}
shift
[ $# -gt 0 ] || set -- 64 8
BIN=${MIX_BIN:-./target/release/aforro}
LOAD=./target/release/examples/load
PORT=${MIX_PORT:-18437}
LOGS=${MIX_LOG_DIR:-target/search-mix}
mkdir -p "$LOGS"
$BIN --log-format json --data-dir "$DIR/data" --index-dir "$DIR/index" serve --addr 127.0.0.1:$PORT > "$LOGS/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 1 1200); do curl -sf -o /dev/null http://127.0.0.1:$PORT/readyz && break; sleep 0.1; done
kill -0 $PID 2>/dev/null || { echo "search-mix: the server did not start:"; tail -2 "$LOGS/server.log"; exit 1; }
$LOAD run --addr 127.0.0.1:$PORT --workload search --clients 8 --duration-secs 10 --data-dir "$DIR/data" --random-seed 99 > /dev/null
cpu_ticks() { awk '{print $14 + $15}' /proc/$PID/stat; }
for clients in "$@"; do
  before=$(cpu_ticks)
  $LOAD run --addr 127.0.0.1:$PORT --workload search --clients "$clients" --duration-secs 20 \
    --data-dir "$DIR/data" --request-log "$LOGS/search-mix-$clients.tsv" | tail -2 | head -1
  after=$(cpu_ticks)
  echo "  $clients clients: server CPU $(( (after - before) * 1000 / $(getconf CLK_TCK) )) ms for $(wc -l < "$LOGS/search-mix-$clients.tsv") requests"
done
