#!/usr/bin/env bash
# The replication figures of docs/scaling.md: a demo primary with Litestream beside it, a file
# replica, a follower and a read replica, all on loopback; then
#   1. the time to bring up a replica from the replica files (restore -f start → readyz 200),
#   2. replica lag under the orders load (the replica's aforro_replica_commit_age_seconds),
#   3. search throughput on the replica (and on the primary, for comparison).
# Every run is bounded in time. Needs curl, sqlite3, Litestream (LITESTREAM), and
# `cargo build --release --bin aforro --example load` (or AFORRO/LOAD pointing at other builds).
#   scripts/measure-replication.sh [sync-interval, default 1s]
set -u
cd "$(dirname "$0")/.."
A=${AFORRO:-./target/release/aforro}
L=${LOAD:-./target/release/examples/load}
LS=${LITESTREAM:-litestream}
SYNC=${1:-1s}
SECS=${SECS:-20}
R=${MEASURE_DIR:-target/measure-replication}; rm -rf "$R"; mkdir -p "$R"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
ready() { for _ in $(seq 1 1200); do curl -sf -o /dev/null "http://$1/readyz" && return 0; sleep 0.1; done; echo "$1 never ready"; exit 1; }
now_ms() { date +%s%3N; }
uptime

# The primary: demo catalog, every row stocked, Litestream beside it.
$A --data-dir $R/p/data --index-dir $R/p/index seed > /dev/null
$L prepare --data-dir $R/p/data > /dev/null
$A --log-format json --data-dir $R/p/data --index-dir $R/p/index serve --litestream --addr 127.0.0.1:18701 > $R/primary.log 2>&1 &
PIDS+=($!)
ready 127.0.0.1:18701
AFORRO_DB=$R/p/data/aforro.db LITESTREAM_REPLICA=$R/replica LITESTREAM_SYNC=$SYNC \
  $LS replicate -config deploy/litestream.yml > $R/litestream.log 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do [ -n "$(ls $R/replica/ltx 2>/dev/null)" ] && break; sleep 0.1; done

# 1. Bring-up: restore -f, then serve --read-replica, until ready.
start=$(now_ms)
mkdir -p $R/r/data
$LS restore -f -follow-interval 100ms -o $R/r/data/aforro.db "file://$(realpath $R/replica)" > $R/follow.log 2>&1 &
PIDS+=($!)
for _ in $(seq 1 6000); do [ -f $R/r/data/aforro.db-txid ] && break; sleep 0.05; done
restored=$(now_ms)
$A --log-format json --data-dir $R/r/data --index-dir $R/r/index serve --read-replica \
  --primary-url http://127.0.0.1:18701 --addr 127.0.0.1:18702 > $R/replica.log 2>&1 &
PIDS+=($!)
ready 127.0.0.1:18702
up=$(now_ms)
echo "=== bring-up: restore $((restored - start)) ms, serve until ready $((up - restored)) ms, total $((up - start)) ms ($(du -h $R/r/data/aforro.db | cut -f1) database)"

# 2. Lag under the orders load.
echo "=== orders on the primary, 16 clients, ${SECS}s, sync-interval $SYNC"
$L run --addr 127.0.0.1:18701 --workload orders --clients 16 --duration-secs $SECS --data-dir $R/p/data
sleep 3
echo "=== replica: commit age when applied (primary commit → replica views), seconds"
curl -s http://127.0.0.1:18702/metrics | grep -E '^aforro_replica_(commit_age|lag)'
curl -s http://127.0.0.1:18702/readyz; echo
echo "orders on the primary: $(sqlite3 $R/p/data/aforro.db 'SELECT COUNT(*) FROM orders'), on the replica: $(sqlite3 "file:$R/r/data/aforro.db?mode=ro" 'SELECT COUNT(*) FROM orders')"

# 3. Search throughput, replica then primary (same catalog, same load).
for target in 18702:replica 18701:primary; do
  echo "=== search on the ${target#*:}, 64 clients, ${SECS}s"
  $L run --addr 127.0.0.1:${target%%:*} --workload search --clients 64 --duration-secs $SECS --data-dir $R/p/data
done
uptime
