#!/usr/bin/env bash
# Every measurement of docs/performance.md: needs `cargo build --release --bin aforro --example load`,
# sqlite3 and curl, and the 1M catalog (`AFORRO_BENCH_SIZES=1m cargo bench --bench search` builds it).
# Loopback only; every run is bounded in time. Takes about 5 minutes.
set -u
cd "$(dirname "$0")/.."
A=./target/release/aforro
L=./target/release/examples/load
R=${MEASURE_DIR:-target/measure}; mkdir -p $R
rss() { grep VmHWM /proc/$1/status; }
serve() { # dir port extra...
  local dir=$1 port=$2; shift 2
  $A --log-format json --data-dir $dir/data --index-dir $dir/index "$@" serve --addr 127.0.0.1:$port > $R/serve-$port.log 2>&1 &
  SERVER=$!
  for i in $(seq 1 600); do curl -sf -o /dev/null http://127.0.0.1:$port/readyz && return 0; sleep 0.5; done
  echo "server on $port never ready"; return 1
}
stop() { kill -TERM $SERVER; wait $SERVER 2>/dev/null; }

# Orders on the demo catalog, every inventory row stocked.
O=$R/orders; rm -rf $O; mkdir -p $O
$A --data-dir $O/data --index-dir $O/index seed > /dev/null
$L prepare --data-dir $O/data
for cfg in "full 1024" "full 1" "normal 1024"; do
  set -- $cfg
  serve $O 18601 --synchronous $1 --writer-batch $2
  secs=10; [ "$1 $2" = "full 1024" ] && secs=30
  echo "=== orders synchronous=$1 writer-batch=$2 ${secs}s"
  $L run --addr 127.0.0.1:18601 --workload orders --clients 64 --duration-secs $secs --data-dir $O/data
  echo "jobs right after the run:"; sqlite3 $O/data/aforro.db "SELECT state, COUNT(*) FROM jobs GROUP BY state"
  for i in $(seq 1 100); do [ "$(sqlite3 $O/data/aforro.db "SELECT COUNT(*) FROM jobs WHERE state IN ('queued','running')")" = 0 ] && break; sleep 0.1; done
  echo "queue drained after ~$((i/10)).$((i%10)) s; commit->confirmation:"
  sqlite3 $O/data/aforro.db "SELECT COUNT(*), (SELECT n.created_at - o.created_at FROM notifications n JOIN orders o ON o.id = n.order_id ORDER BY 1 LIMIT 1 OFFSET (SELECT COUNT(*) FROM notifications) / 2) / 1000.0, (SELECT n.created_at - o.created_at FROM notifications n JOIN orders o ON o.id = n.order_id ORDER BY 1 LIMIT 1 OFFSET (SELECT COUNT(*) FROM notifications) * 99 / 100) / 1000.0, MAX(n.created_at - o.created_at) / 1000.0 FROM notifications n JOIN orders o ON o.id = n.order_id"
  sqlite3 $O/data/aforro.db "DELETE FROM notifications" 
  rss $SERVER; stop
done

# Search and suggest at 1M products (the criterion bench's cached catalog: 1M products, 50 stores, 5M inventory rows).
B=target/bench-data/1m
serve $B 18602
echo "=== ready at 1M; RSS after start:"; rss $SERVER
for w in search suggest mixed; do
  echo "=== $w 1M 64 clients 20s"
  $L run --addr 127.0.0.1:18602 --workload $w --clients 64 --duration-secs 20 --data-dir $B/data
done
echo "=== peak RSS serving 1M under load:"; rss $SERVER
stop
echo "=== baselines 1M (in-process, server stopped)"
$L baseline --data-dir $B/data --index-dir $B/index --queries 400
