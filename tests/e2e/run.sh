#!/usr/bin/env bash
# Usage: tests/e2e/run.sh   (or `make test-e2e`, which builds pkg/ first)
# Serves the demo page (www/ plus the built pkg/) from a throwaway emulator started with --demo,
# and drives it with tests/e2e/demo.e2e.mjs in headless Chromium. Screenshots: test-results/e2e/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ -f "$root/pkg/oblien_user_client.js" ] || { echo "tests/e2e/run.sh: no pkg/; run make pkg first" >&2; exit 2; }

# The page, the package and xterm.js in one folder, as `make demo` arranges them (www/ + www/pkg/ +
# www/vendor/), without touching www/.
static="$(mktemp -d)"
trap 'rm -rf "$static"' EXIT
cp -r "$root/www/." "$static/"
rm -rf "$static/pkg" "$static/vendor"
cp -r "$root/pkg" "$static/pkg"
"$root/scripts/vendor-demo.sh" "$static/vendor"

EMULATOR_FLAGS="--demo --static $static ${EMULATOR_FLAGS:-}" \
  "$root/scripts/with-emulator.sh" node "$root/tests/e2e/demo.e2e.mjs" "$@"
