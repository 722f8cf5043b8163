#!/bin/bash
# Orders over HTTP with wrk (scripts/orders.lua, 64 connections, 15 s), two release builds
# alternated on fresh copies of one demo catalog where every store stocks every product (so
# every order is CONFIRMED): prints req/s, p99, confirmed orders, the server's CPU per order,
# the writer thread's CPU per order and every thread's CPU. Loopback only, bounded in time.
# usage: scripts/orders-wrk.sh OLD_BIN NEW_BIN [ROUNDS]   (needs wrk, curl, python3)
set -u
OLD=$1; NEW=$2; ROUNDS=${3:-2}
W=/tmp/orders-wrk; mkdir -p $W
[ -d $W/base ] || $OLD --data-dir $W/base/data --index-dir $W/base/index seed >/dev/null 2>&1
python3 - <<PY
import sqlite3
c=sqlite3.connect("$W/base/data/aforro.db")
c.execute("INSERT OR REPLACE INTO inventory (store_id, product_id, quantity) SELECT s.id, p.id, 1000000 FROM stores s, products p")
c.commit(); print(c.execute("select count(*) from inventory").fetchone())
PY
run() {
  BIN=$1; NAME=$2
  rm -rf $W/run; cp -a $W/base $W/run; sync; sleep 1
  $BIN --data-dir $W/run/data --index-dir $W/run/index serve --addr 127.0.0.1:18655 >$W/serve.log 2>&1 &
  pid=$!
  for i in $(seq 1 300); do curl -sf -o /dev/null http://127.0.0.1:18655/readyz && break; sleep 0.1; done
  out=$(cd "$(dirname "$0")/.." && wrk -t2 -c64 -d15s --latency -s scripts/orders.lua http://127.0.0.1:18655)
  cpu=$(awk '{print ($14+$15)/100}' /proc/$pid/stat)
  wt=$(grep -l aforro-writer /proc/$pid/task/*/comm | head -1 | cut -d/ -f5)
  wcpu=$(awk '{print $1/1e9}' /proc/$pid/task/$wt/schedstat)
  others=$(for t in /proc/$pid/task/*; do echo "$(cat $t/comm) $(awk '{print $1/1e9}' $t/schedstat)"; done | awk '{a[$1]+=$2} END {for (k in a) printf "%s=%.2f ", k, a[k]}')
  kill $pid; wait $pid 2>/dev/null
  conf=$(python3 -c "import sqlite3; c=sqlite3.connect('$W/run/data/aforro.db'); print(c.execute(\"select count(*) from orders where status='CONFIRMED'\").fetchone()[0])")
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}'); p99=$(echo "$out" | awk '/ 99%/{print $2}')
  echo "$NAME $(date -u +%T) $rps req/s p99 $p99 confirmed=$conf cpu=${cpu}s us/order=$(python3 -c "print(round($cpu/$conf*1e6,1))") writer_us/order=$(python3 -c "print(round($wcpu/$conf*1e6,1))")"; echo "   $others"
}
for r in $(seq 1 $ROUNDS); do run $OLD old; run $NEW new; done
