#!/usr/bin/env bash
# Usage: scripts/with-emulator.sh CMD [ARGS...]
# Starts a fresh oblien-emulator on free loopback ports, runs CMD with
#   OBLIEN_EMULATOR_API, OBLIEN_EMULATOR_GATEWAY, OBLIEN_EMULATOR_CLIENT_ID, OBLIEN_EMULATOR_CLIENT_SECRET
# exported, stops the emulator and exits with CMD's status.
# Env: EMULATOR_FLAGS (extra emulator flags), EMULATOR_PROFILE (debug | release, default debug),
#      EMULATOR_BIN (an emulator binary to run instead of building this tree's), OBLIEN_CLIENT_ID / OBLIEN_CLIENT_SECRET (admin creds),
#      EMULATOR_READY_TIMEOUT (seconds, default 30).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"

# cargo decides whether anything is stale; a no-op build takes well under a second.
# The debug build by default: `cargo test` has built it already, and the release profile (LTO,
# opt-level z, tuned for the wasm) costs ~100 s here. EMULATOR_PROFILE=release for benchmarks.
profile="${EMULATOR_PROFILE:-debug}"
if [ -n "${EMULATOR_BIN:-}" ]; then
  bin="$EMULATOR_BIN"
else
  if [ "$profile" = release ]; then
    cargo build --release --quiet -p oblien-emulator --manifest-path "$root/Cargo.toml"
  else
    cargo build --quiet -p oblien-emulator --manifest-path "$root/Cargo.toml"
  fi
  bin="${CARGO_TARGET_DIR:-$root/target}/$profile/oblien-emulator"
fi

tmp="$(mktemp -d)"
log="$tmp/emulator.log"
pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # Bounded wait: a stuck emulator must not hang CI.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Fixed test admin creds, so a test can mint namespaces and tokens.
export OBLIEN_CLIENT_ID="${OBLIEN_CLIENT_ID:-test-admin}"
export OBLIEN_CLIENT_SECRET="${OBLIEN_CLIENT_SECRET:-test-admin-secret}"

# Port 0: the OS picks free ports, so parallel runs and a running demo never collide.
# shellcheck disable=SC2086  # EMULATOR_FLAGS is a list of words on purpose
"$bin" --host 127.0.0.1 --port 0 --gateway-port 0 --ready-file "$tmp/ready.json" \
  ${EMULATOR_FLAGS:-} >"$log" 2>&1 &
pid=$!

# The emulator writes the ready file once both listeners are bound; parse it with node
# (already required for npm) and retry while it is absent or half-written.
read_ready() {
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (!r.api || !r.gateway) process.exit(1);
    console.log([r.api, r.gateway, r.clientId, r.clientSecret].join("\n"));' "$tmp/ready.json" 2>/dev/null
}
deadline=$((SECONDS + ${EMULATOR_READY_TIMEOUT:-30}))
until ready="$(read_ready)"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-emulator: the emulator exited before it was ready; its log:" >&2
    cat "$log" >&2; exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "with-emulator: no ready file after ${EMULATOR_READY_TIMEOUT:-30}s; emulator log:" >&2
    cat "$log" >&2; exit 1
  fi
  sleep 0.1
done
{ read -r OBLIEN_EMULATOR_API; read -r OBLIEN_EMULATOR_GATEWAY
  read -r OBLIEN_EMULATOR_CLIENT_ID; read -r OBLIEN_EMULATOR_CLIENT_SECRET; } <<<"$ready"
export OBLIEN_EMULATOR_API OBLIEN_EMULATOR_GATEWAY OBLIEN_EMULATOR_CLIENT_ID OBLIEN_EMULATOR_CLIENT_SECRET
echo "with-emulator: api $OBLIEN_EMULATOR_API, gateway $OBLIEN_EMULATOR_GATEWAY (pid $pid)" >&2

# CMD runs in the background so that a signal to this script is handled at once (bash defers
# traps until a foreground child exits): it is passed on as SIGTERM (background jobs ignore
# SIGINT), then the EXIT trap stops the emulator. `<&0` keeps CMD's stdin.
status=0
"$@" <&0 &
cmd=$!
trap 'kill -TERM "$cmd" 2>/dev/null; exit 130' INT
trap 'kill -TERM "$cmd" 2>/dev/null; exit 143' TERM
wait "$cmd" || status=$?
if [ "$status" -ne 0 ]; then
  echo "with-emulator: '$*' failed with status $status; emulator log ($log):" >&2
  cat "$log" >&2
fi
exit "$status"
