#!/usr/bin/env bash
# Runs a read replica: `litestream restore -f` restores the primary's replica into this
# node's data folder and keeps applying what arrives; `aforro serve --read-replica` serves
# from it (docs/scaling.md).
#
#   scripts/serve-replica.sh PRIMARY_URL [aforro serve options...]
#
# Environment: AFORRO_DATA_DIR (./replica-data), AFORRO_INDEX_DIR (./replica-index),
# LITESTREAM_REPLICA (./replica: the primary's replica, a folder or an s3:// URL),
# LITESTREAM, AFORRO as in serve-replicated.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
primary="${1:?usage: scripts/serve-replica.sh PRIMARY_URL [serve options...]}"
shift

export AFORRO_DATA_DIR="${AFORRO_DATA_DIR:-./replica-data}"
export AFORRO_INDEX_DIR="${AFORRO_INDEX_DIR:-./replica-index}"
LITESTREAM_REPLICA="${LITESTREAM_REPLICA:-./replica}"
LITESTREAM="${LITESTREAM:-litestream}"
AFORRO="${AFORRO:-target/release/aforro}"
case "$LITESTREAM_REPLICA" in *://*) source_url="$LITESTREAM_REPLICA" ;; *) source_url="file://$(realpath "$LITESTREAM_REPLICA")" ;; esac

mkdir -p "$AFORRO_DATA_DIR"
db="$AFORRO_DATA_DIR/aforro.db"
"$LITESTREAM" restore -f -follow-interval 100ms -o "$db" "$source_url" &
follower=$!
trap 'kill "$follower" 2>/dev/null || true' EXIT
# The follower writes the first full copy, then follows; serve once the copy is there.
for _ in $(seq 600); do [ -f "$db-txid" ] && break; sleep 0.1; done
"$AFORRO" serve --read-replica --primary-url "$primary" "$@"
