#!/usr/bin/env bash
# One run of the orders load against a fresh copy of a prepared catalog (docs/performance.md,
# "Comparing two builds").
#
#   scripts/orders-run.sh BASE [BIN...]     # BASE holds data/ of a seeded, `load prepare`d catalog
#   ORDERS_LOG_DIR=/tmp scripts/orders-run.sh /tmp/orders-base ./a/aforro ./b/aforro ./a/aforro
#
# Prepare BASE once:
#   aforro --data-dir BASE/data --index-dir BASE/index seed
#   target/release/examples/load prepare --data-dir BASE/data
#
# For each BIN in turn (alternate two builds to compare them on a noisy machine): copies
# BASE/data fresh, syncs and rests 2 s (so the last run's writeback does not land in this one),
# starts `BIN serve`, runs `load run --workload orders --clients 64 --duration-secs 20`, then
# prints the harness's summary, the server's CPU per order and the writer thread's CPU per
# order (its schedstat). Needs `cargo build --release --bin aforro --example load`. Loopback
# only; every run is bounded.
set -u
cd "$(dirname "$0")/.."
BASE=${1:?usage: scripts/orders-run.sh BASE [BIN...]}
shift
[ $# -gt 0 ] || set -- ./target/release/aforro
LOAD=${ORDERS_LOAD:-./target/release/examples/load}
PORT=${ORDERS_PORT:-18631}
RUN=${ORDERS_LOG_DIR:-target/orders-run}/run
for BIN in "$@"; do
  rm -rf "$RUN"; mkdir -p "$RUN"; cp -r "$BASE/data" "$RUN/data"; sync; sleep 2
  "$BIN" --data-dir "$RUN/data" --index-dir "$RUN/index" serve --addr 127.0.0.1:$PORT > "$RUN/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do curl -sf -o /dev/null http://127.0.0.1:$PORT/readyz && break; sleep 0.1; done
  kill -0 $PID 2>/dev/null || { echo "orders-run: the server did not start:"; tail -2 "$RUN/serve.log"; exit 1; }
  echo "== $BIN $(date -u +%T)"
  $LOAD run --addr 127.0.0.1:$PORT --workload orders --clients 64 --duration-secs 20 --data-dir "$RUN/data" \
    > "$RUN/load.out" 2>&1
  grep -E "^order|FAIL|ok |confirmations" "$RUN/load.out"
  orders=$(awk '/^order / {print $2}' "$RUN/load.out")
  writer=$(grep -l aforro-writer /proc/$PID/task/*/comm | head -1 | cut -d/ -f5)
  awk -v n="$orders" '{printf "server CPU %.2f s, %.1f us per order\n", ($14 + $15) / 100, ($14 + $15) / 100 / n * 1e6}' /proc/$PID/stat
  awk -v n="$orders" '{printf "writer ran %.2f s, waited %.2f s for a core, %.1f us per order\n", $1 / 1e9, $2 / 1e9, $1 / 1e3 / n}' \
    "/proc/$PID/task/$writer/schedstat"
  kill $PID; wait $PID 2>/dev/null
done
