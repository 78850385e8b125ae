#!/usr/bin/env bash
# The official Oblien SDK (npm `oblien`, exactly 2.4.0, its `oblien/runtime` entry) against a
# running emulator. Needs OBLIEN_EMULATOR_API, OBLIEN_EMULATOR_GATEWAY,
# OBLIEN_EMULATOR_CLIENT_ID and OBLIEN_EMULATOR_CLIENT_SECRET: run it through
# scripts/with-emulator.sh (`make test-sdk`).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
  npm ci --silent --no-audit --no-fund
fi
exec node --test --test-reporter=spec ./*.test.js
