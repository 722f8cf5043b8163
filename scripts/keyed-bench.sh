#!/bin/bash
# What keyed mode costs: the same binary and the same demo catalog served open, then keyed
# (the search request sent with an API key), alternated, with wrk at 64 connections on a
# cached search (a 3 s warm-up, then 10 s measured). Loopback only, bounded in time.
# usage: scripts/keyed-bench.sh target/release/aforro [ROUNDS]   (needs wrk, curl, python3)
set -euo pipefail
BIN=$1; ROUNDS=${2:-2}
W=$(mktemp -d)
$BIN --data-dir $W/seed/data --index-dir $W/seed/index seed >/dev/null
$BIN --data-dir $W/seed/data --index-dir $W/seed/index reindex >/dev/null
KEY=$($BIN --data-dir $W/seed/data --index-dir $W/seed/index keys create --name bench --actions search 2>/dev/null)
python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > $W/master
URL='http://127.0.0.1:18777/api/search/products/?q=steel+kettle&analytics=false'
run() { # mode
  rm -rf $W/run; cp -a $W/seed $W/run
  if [ "$1" = keyed ]; then export AFORRO_MASTER_KEY_FILE=$W/master; else unset AFORRO_MASTER_KEY_FILE; fi
  $BIN --data-dir $W/run/data --index-dir $W/run/index serve --addr 127.0.0.1:18777 >$W/serve.log 2>&1 &
  pid=$!
  for i in $(seq 1 100); do $BIN healthcheck --addr 127.0.0.1:18777 >/dev/null 2>&1 && break; sleep 0.1; done
  unset AFORRO_MASTER_KEY_FILE
  H=(); [ "$1" = keyed ] && H=(-H "Authorization: Bearer $KEY")
  curl -fsS "${H[@]}" -o /dev/null "$URL"
  wrk -t2 -c64 -d3s "${H[@]}" "$URL" >/dev/null   # warm-up
  out=$(wrk -t2 -c64 -d10s --latency "${H[@]}" "$URL")
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}'); p99=$(echo "$out" | awk '/ 99%/{print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/{print $4}')
  echo "$1 $rps req/s p99 $p99 non2xx=${non2xx:-0}"
  kill $pid; wait $pid 2>/dev/null || true
}
for r in $(seq 1 $ROUNDS); do run open; run keyed; done
rm -rf $W
