#!/bin/bash
# The login flood (docs/reliability.md, "Login floods") on two release builds, alternated on fresh
# copies of one seeded demo catalog: search alone (8 clients, 15 s), then the same beside 200
# clients sending failing logins, with the server's peak RSS. Loopback only, bounded in time.
# usage: scripts/login-flood-ab.sh ROUNDS BIN... (needs curl and target/release/examples/load)
set -u
ROUNDS=$1; shift
set -- $(realpath "$@")
cd "$(dirname "$0")/.."
L=target/release/examples/load
W=$(mktemp -d); trap 'rm -rf $W' EXIT
$1 --data-dir $W/base/data --index-dir $W/base/index seed >/dev/null 2>&1
one() {
  BIN=$1
  rm -rf $W/run; cp -a $W/base $W/run
  $BIN --data-dir $W/run/data --index-dir $W/run/index serve --addr 127.0.0.1:18699 > $W/serve.log 2>&1 &
  pid=$!
  for i in $(seq 1 300); do curl -sf -o /dev/null http://127.0.0.1:18699/readyz && break; sleep 0.1; done
  un=$($L run --addr 127.0.0.1:18699 --workload search --clients 8 --duration-secs 15 --data-dir $W/run/data 2>&1 | grep -E "^search" | tail -1)
  fl=$($L run --addr 127.0.0.1:18699 --workload login-flood --clients 8 --login-clients 200 --duration-secs 15 --server-pid $pid --max-rss-mb 600 --data-dir $W/run/data 2>&1 | tail -12)
  echo "== $BIN $(date -u +%T)"; echo "unloaded: $un"; echo "$fl"; grep VmHWM /proc/$pid/status
  kill $pid; wait $pid 2>/dev/null
}
for r in $(seq 1 $ROUNDS); do for b in "$@"; do one $b; done; done
