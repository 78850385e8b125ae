#!/usr/bin/env bash
# Usage: scripts/vendor-demo.sh DEST      (`make demo` runs it with www/vendor; tests/e2e/run.sh
# with its copy of the page)
# Copies the demo page's browser dependencies from node_modules (npm ci, pinned in package.json
# and package-lock.json) into DEST: xterm.js's ES module build and stylesheet, and its fit addon.
# The page imports them from ./vendor/ (no CDN); www/vendor/ is not committed.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$1"
xterm="$root/node_modules/@xterm/xterm"
fit="$root/node_modules/@xterm/addon-fit"
for f in "$xterm/lib/xterm.mjs" "$xterm/css/xterm.css" "$fit/lib/addon-fit.mjs"; do
  [ -f "$f" ] || { echo "vendor-demo: $f is missing; run \`npm ci\` (or \`make install\`)" >&2; exit 2; }
done
rm -rf "$dest/xterm"
mkdir -p "$dest/xterm"
cp "$xterm/lib/xterm.mjs" "$xterm/lib/xterm.mjs.map" "$xterm/css/xterm.css" "$dest/xterm/"
cp "$xterm/LICENSE" "$dest/xterm/LICENSE.xterm"
cp "$fit/lib/addon-fit.mjs" "$fit/lib/addon-fit.mjs.map" "$dest/xterm/"
cp "$fit/LICENSE" "$dest/xterm/LICENSE.addon-fit"
