#!/usr/bin/env bash
# Usage: bench/run.sh [--smoke] [--out FILE]      (`make bench`, `make bench-smoke`)
# Runs bench/run.mjs against a fresh emulator on loopback. The full run uses the emulator's
# release build (EMULATOR_PROFILE=release; ~100 s to build the first time); --smoke uses the debug
# build that `cargo test` has already built, unless EMULATOR_PROFILE says otherwise.
# Builds pkg/ with `make pkg` when run by hand (under make, the target depends on pkg already).
# Installs wrk from Debian when it is missing (apt-get; says so).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

smoke=0
for arg in "$@"; do
  if [ "$arg" = --smoke ]; then smoke=1; fi
done

if [ -z "${MAKELEVEL:-}" ]; then
  make --no-print-directory pkg
fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk (the HTTP load tool) is missing; installing it from Debian: apt-get install -y wrk" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y wrk >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y wrk >&2; }
fi

if [ "$smoke" = 1 ]; then
  profile="${EMULATOR_PROFILE:-debug}"
else
  profile="${EMULATOR_PROFILE:-release}"
fi
# The package as built now, copied under make pkg's lock: a rebuild by another make while the
# benchmark runs (minutes) must not change what is measured halfway.
snap="$(mktemp -d)"
trap 'rm -rf "$snap"' EXIT
mkdir -p target
flock target/.pkg.lock cp -R pkg/. "$snap/"
export PKG_DIR="$snap"

# Provisioning in 100 ms rather than 1.5 s: the set-up waits for ready workspaces.
export EMULATOR_PROFILE="$profile" BENCH_EMULATOR_PROFILE="$profile"
export EMULATOR_FLAGS="--provision-delay-ms 100 ${EMULATOR_FLAGS:-}"
scripts/with-emulator.sh node bench/run.mjs "$@"
