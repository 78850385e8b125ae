#!/usr/bin/env bash
# Usage: tests/consumer/run.sh   (or `make test-consumer`, which builds pkg/ first)
# The package as its users consume it, against the BUILT pkg/:
#   1. `npm ci` in tests/consumer when node_modules is missing or older than package-lock.json
#      (oblien-user-client is a `file:../../pkg` dependency: npm links it, so a rebuilt pkg/ is
#      picked up without reinstalling; checked below);
#   2. `tsc` on the app's sources (types through node_modules, as after `npm install`) and on
#      tests/types/usage.ts (every public method, result types, misuse refused);
#   3. `vite build` of the app (no plugins);
#   4. the built app and a plain <script type="module"> page in headless Chromium against a fresh
#      emulator: scripts/with-emulator.sh node tests/consumer/run.mjs
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

step() { printf '\n== consumer: %s\n' "$*"; }
t0=$SECONDS

[ -f "$root/pkg/package.json" ] && [ -f "$root/pkg/oblien_user_client_bg.wasm" ] ||
  { echo "run.sh: $root/pkg/ is not built; run \`make pkg\` (or \`make test-consumer\`)" >&2; exit 2; }

# npm writes node_modules/.package-lock.json on every install: its age says whether the tree is
# older than the committed lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
   [ ! -x node_modules/.bin/vite ] || [ ! -x node_modules/.bin/tsc ]; then
  step "npm ci"
  # --install-links=false: the file: dependency is a symlink to pkg/ whatever the user's npmrc says.
  npm ci --no-audit --no-fund --install-links=false
fi
# The dependency must BE pkg/ (a link), not a copy of an earlier build.
linked="$(cd node_modules/oblien-user-client 2>/dev/null && pwd -P || true)"
if [ "$linked" != "$(cd "$root/pkg" && pwd -P)" ]; then
  echo "run.sh: node_modules/oblien-user-client is not a link to $root/pkg (it is '${linked:-missing}'); reinstalling" >&2
  rm -rf node_modules
  npm ci --no-audit --no-fund --install-links=false
fi

step "tsc (app sources, strict; types through node_modules/oblien-user-client)"
node_modules/.bin/tsc --version
node_modules/.bin/tsc -p .
step "tsc -p tests/types (every public method; result types; misuse must not compile)"
node_modules/.bin/tsc -p ../types
echo "tsc: no errors"

step "vite build (no plugins)"
node_modules/.bin/vite build

step "headless Chromium against a fresh emulator"
"$root/scripts/with-emulator.sh" node "$here/run.mjs"
echo "consumer: done in $((SECONDS - t0)) s"
