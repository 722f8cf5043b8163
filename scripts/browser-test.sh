#!/usr/bin/env bash
# The admin pages' browser test: starts chromedriver (Debian's `chromium` and
# `chromium-driver` packages) on a free local port, runs the ignored test
# `admin_browser` (which saves screenshots to docs/img/), and stops chromedriver again. Usage: scripts/browser-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in chromium chromedriver; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y chromium chromium-driver" >&2; exit 1; }
done

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chromedriver --port="$port" --allowed-ips=127.0.0.1 >target/chromedriver.log 2>&1 &
driver_pid=$!
# Chromium is chromedriver's child: stop it too if a failed test left it running.
trap 'pkill -P "$driver_pid" 2>/dev/null || true; kill "$driver_pid" 2>/dev/null || true' EXIT

# Wait (at most 10 s) for chromedriver to answer.
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/status" >/dev/null 2>&1; then break; fi
    sleep 0.1
done

mkdir -p docs/img
export SCREENSHOT_DIR="$PWD/docs/img" CHROMEDRIVER_URL="http://127.0.0.1:$port" CHROMIUM_BINARY="$(command -v chromium)"
# nextest when installed (CI), else plain cargo test: a rustup-only machine can run this too.
if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --locked --run-ignored only admin_browser
else
    cargo test --locked --test api admin_browser -- --ignored
fi
