#!/usr/bin/env bash
# Usage: scripts/with-emulator.sh tests/sdk-ws/run.sh   (or `make test-sdk-ws`)
# The emulator's /ws, terminals and watchers driven by the official SDK (npm `oblien` 2.4.0,
# `rt.ws()`), against the emulator named by OBLIEN_EMULATOR_*. Installs the pinned SDK from the
# committed package-lock.json on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if [ ! -d node_modules/oblien ]; then
  npm ci --no-audit --no-fund
fi
# Node 20 has no global WebSocket without the flag; Node 22+ has one by default.
flags=()
if ! node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)'; then
  flags+=(--experimental-websocket)
fi
exec node "${flags[@]}" --test --test-reporter=spec ws.test.mjs
