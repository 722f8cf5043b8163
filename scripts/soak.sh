#!/usr/bin/env bash
# Soak: mixed load on a running release server, anonymous memory sampled, pass only if memory
# reaches a plateau and the stock invariant holds (docs/reliability.md, "Memory under steady load").
#
#   scripts/soak.sh                      # CI form: 90 s on the demo catalog, never scraped
#   SOAK_SECS=1800 SCRAPE_SECS=10 scripts/soak.sh   # by hand: 30 min, /metrics scraped every 10 s
#   SOAK_DIR=target/bench-data/1m SOAK_SECS=600 scripts/soak.sh   # an existing data+index folder
#   SOAK_BIN=path/to/another/aforro ...  # compare builds (e.g. allocators) on the same workload
#
# Needs `cargo build --release --bin aforro --example load` (or SOAK_PROFILE=debug and a plain
# `cargo build --bin aforro --example load`) and curl. Loopback only; every load
# run is bounded in time (SOAK_RUN_SECS, at most 600 s each by default, repeated) and in requests (the harness's budget).
# Plateau: over the last third of the samples, memory's level (a one-minute median, SOAK_LEVEL_SECS)
# grows by less than SOAK_MAX_GROWTH_PCT (default 2) % (the first two thirds are the warm-up:
# caches fill, the heap finds its size).
set -u
cd "$(dirname "$0")/.."
P=${SOAK_PROFILE:-release}
A=${SOAK_BIN:-./target/$P/aforro}
L=./target/$P/examples/load
SECS=${SOAK_SECS:-90}
SAMPLE=${SAMPLE_SECS:-5}
SCRAPE=${SCRAPE_SECS:-0}
CLIENTS=${SOAK_CLIENTS:-32}
# Length of each bounded load run (a new run opens new connections and replays the harness's
# request sequence from its start).
RUN_SECS=${SOAK_RUN_SECS:-600}
PORT=${SOAK_PORT:-18650}
MAX_GROWTH=${SOAK_MAX_GROWTH_PCT:-2}
OUT=${SOAK_OUT:-target/soak}
mkdir -p "$OUT"
if [ -n "${SOAK_DIR:-}" ]; then
  DIR=$SOAK_DIR
else
  DIR=$OUT/demo; rm -rf "$DIR"; mkdir -p "$DIR"
  $A --data-dir "$DIR/data" --index-dir "$DIR/index" seed > /dev/null || exit 1
  # Stock every row, so the orders stay confirmed orders for the whole run.
  $L prepare --data-dir "$DIR/data" > /dev/null || exit 1
fi

$A --data-dir "$DIR/data" --index-dir "$DIR/index" serve --addr 127.0.0.1:$PORT > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 1200); do curl -sf -o /dev/null http://127.0.0.1:$PORT/readyz && break; sleep 0.5; done
curl -sf -o /dev/null http://127.0.0.1:$PORT/readyz || { echo "soak: the server never became ready"; exit 1; }

# Load: consecutive bounded runs until SECS have passed; each run checks the stock invariant.
(
  left=$SECS; ok=0
  while [ "$left" -gt 0 ]; do
    run=$(( left > RUN_SECS ? RUN_SECS : left ))
    $L run --addr 127.0.0.1:$PORT --workload mixed --clients "$CLIENTS" --duration-secs "$run" \
      --data-dir "$DIR/data" >> "$OUT/load.log" 2>&1 || ok=1
    left=$(( left - run ))
  done
  exit $ok
) &
LOAD=$!

rss_kib() { awk '/^RssAnon:/ {print $2}' /proc/$SERVER/status; }
echo "secs,rss_anon_kib" > "$OUT/memory.csv"
start=$(date +%s); last_scrape=$start
while kill -0 $LOAD 2>/dev/null; do
  now=$(date +%s)
  echo "$((now - start)),$(rss_kib)" >> "$OUT/memory.csv"
  if [ "$SCRAPE" -gt 0 ] && [ $((now - last_scrape)) -ge "$SCRAPE" ]; then
    curl -sf -o /dev/null http://127.0.0.1:$PORT/metrics; last_scrape=$now
  fi
  sleep "$SAMPLE"
done
wait $LOAD; load_ok=$?
echo "$(( $(date +%s) - start )),$(rss_kib)" >> "$OUT/memory.csv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/loadavg.txt"

# Judge the plateau on the last third of the samples, by level: the median of the samples in
# the first LEVEL_SECS of the last third against the median of the last LEVEL_SECS. A median
# over a minute (not one sample at each end) so that a transient caught by the final sample,
# such as an autocomplete rebuild that memory returns within the minute, is not read as
# growth, while a step that stays is. The end-point growth is printed beside it.
LEVEL_SECS=${SOAK_LEVEL_SECS:-60}
verdict=$(awk -F, -v max="$MAX_GROWTH" -v level="$LEVEL_SECS" '
  function median(from, to,   k, j, t, c, v) {
    c = 0
    for (k = from; k <= to; k++) v[++c] = m[k]
    for (k = 2; k <= c; k++) { t = v[k]; for (j = k - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
  }
  NR > 1 { n++; s[n] = $1; m[n] = $2 }
  END {
    if (n < 6) { print "FAIL too few samples"; exit }
    first = int(n * 2 / 3) + 1
    # A short run (the CI form) gets windows of a third of its last third each.
    win = level; if (win > (s[n] - s[first]) / 3) win = (s[n] - s[first]) / 3
    a = first; while (a < n && s[a + 1] - s[first] <= win) a++
    b = n; while (b > a + 1 && s[n] - s[b - 1] <= win) b--
    start = median(first, a); end = median(b, n)
    growth = (end - start) * 100 / start
    raw = (m[n] - m[first]) * 100 / m[first]
    printf "%s last third %d s -> %d s: level %.1f MiB -> %.1f MiB (%+.2f%%, limit %s%%; medians of %d s at each end); end points %.1f -> %.1f MiB (%+.2f%%)\n",
      (growth < max ? "PASS" : "FAIL"), s[first], s[n], start / 1024, end / 1024, growth, max, win,
      m[first] / 1024, m[n] / 1024, raw
  }' "$OUT/memory.csv")
echo "memory: $verdict"
grep -E "stock invariant|requests|transport" "$OUT/load.log" | tail -4
[ "$load_ok" = 0 ] || echo "load: a run failed its checks (see $OUT/load.log)"
[[ $verdict == PASS* ]] && [ "$load_ok" = 0 ]
