#!/usr/bin/env bash
# Prints the timeline of one `aforro serve` start (docs/performance.md, "The start"): when
# /readyz first answered 200, when no derived view was building any more, and every step the
# start logged with its duration. Then stops the server: with SIGTERM (a clean stop, whose
# saved views the next start maps) or, with --kill, after one order and with SIGKILL (the next
# start finds its stock view stale).
#
#   scripts/start-timeline.sh BIN DIR [--kill] [--drop-views]
#
# BIN is an aforro binary; DIR holds data/ and index/ of a seeded catalog (e.g.
# `BIN --data-dir DIR/data --index-dir DIR/index seed --products 1000000 --stores 50
# --inventory-per-store 100000`). --drop-views removes DIR/index/views first (every saved view
# missing: the worst start short of a missing index). Needs curl and python3; loopback only,
# every wait bounded (60 s to ready, 120 s to built).
set -u
BIN=$1 DIR=$2; shift 2
KILL=0
for arg in "$@"; do
  case $arg in
    --kill) KILL=1 ;;
    --drop-views) rm -rf "$DIR/index/views" ;;
    *) echo "unknown option $arg"; exit 2 ;;
  esac
done
PORT=${PORT:-18650}
LOG=$(mktemp)
now_ms() { date +%s%3N; }
started=$(now_ms)
RUST_LOG=warn,aforro=info "$BIN" --log-format json --data-dir "$DIR/data" --index-dir "$DIR/index" \
  serve --addr 127.0.0.1:$PORT > "$LOG" 2>&1 &
SERVER=$!
ready=""
for _ in $(seq 1 3000); do
  body=$(curl -sf http://127.0.0.1:$PORT/readyz) && { ready=$(now_ms); break; }
  kill -0 $SERVER 2>/dev/null || { echo "serve exited:"; cat "$LOG"; exit 1; }
  sleep 0.02
done
[ -n "$ready" ] || { echo "not ready within 60 s"; kill -TERM $SERVER; exit 1; }
echo "readyz 200 after $((ready - started)) ms: $body"
built=""
for _ in $(seq 1 2400); do
  body=$(curl -s http://127.0.0.1:$PORT/readyz)
  # A binary whose readyz names no "building" answers 200 only once its views are built.
  if python3 -c 'import json,sys; b=json.loads(sys.argv[1]); sys.exit(0 if b.get("status")=="ok" and not b.get("building") else 1)' "$body" 2>/dev/null; then
    built=$(now_ms); break
  fi
  sleep 0.05
done
[ -n "$built" ] && echo "no view building after $((built - started)) ms" || echo "views still building after 120 s: $body"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/search/products/?q=kettle&store_id=1&in_stock=true")
echo "a search with a stock filter: HTTP $code"
echo "--- the start's log (step: ms)"
python3 - "$LOG" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    fields = event.get("fields", {})
    message = fields.get("message", "")
    if message == "start step":
        print(f"  {fields.get('step')}: {fields.get('elapsed_ms')}")
    elif message.startswith(("autocomplete", "stock view", "rebuilding", "search index built", "serving")):
        rest = {k: v for k, v in fields.items() if k != "message"}
        print(f"  [{event.get('timestamp', '')[11:23]}] {message} {rest if rest else ''}")
EOF
if [ $KILL = 1 ]; then
  # One unit of the first product store 1 has in stock.
  product=$(curl -s "http://127.0.0.1:$PORT/stores/1/inventory/?in_stock=true&page_size=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["product_id"])')
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' \
    -d "{\"store_id\": 1, \"items\": [{\"product_id\": $product, \"quantity_requested\": 1}]}" \
    http://127.0.0.1:$PORT/orders/)
  kill -KILL $SERVER; wait $SERVER 2>/dev/null
  echo "--- killed (SIGKILL) after one order (HTTP $status)"
else
  stopping=$(now_ms)
  kill -TERM $SERVER; wait $SERVER 2>/dev/null
  echo "--- stopped cleanly (SIGTERM) in $(( $(now_ms) - stopping )) ms"
  python3 - "$LOG" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        fields = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if fields.get("message") in ("stock view saved", "autocomplete map saved"):
        print(f"  {fields['message']}: {fields.get('bytes')} bytes in {fields.get('elapsed_ms')} ms")
EOF
fi
rm -f "$LOG"
