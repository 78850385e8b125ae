#!/usr/bin/env bash
# Install the tools the build and the tests need, and only those that are absent.
# Idempotent: a second run changes nothing and takes about a second.
# Exit status is non-zero when something could not be installed; the reason is printed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# Tools installed by cargo land here; npm's wasm-opt must win over any Debian binaryen.
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

failures=()
say() { printf '==> %s\n' "$*"; }
fail() { printf 'install.sh: cannot install %s: %s\n' "$1" "$2" >&2; failures+=("$1"); }
have() { command -v "$1" >/dev/null 2>&1; }

# Run as root, or through sudo when that exists; apt-get needs it.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else return 127
  fi
}

# cargo install with --locked first (reproducible), and without it when the locked
# dependency set no longer resolves (seen: wasm-bindgen-cli 0.2.130 locks a webpki-roots
# version the index no longer offers). opt-level 1: about 20% less compile time on a fresh
# machine, and these tools only ever process small files.
cargo_install() {
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=1
  cargo install --locked "$@" || { echo "retrying without --locked"; cargo install "$@"; }
}

# The slow steps (two compiles and a download) are independent: run them side by side,
# each in its own process group with its own log, printed when it fails.
set -m
logs=$(mktemp -d)
job_names=() job_pids=() job_why=()
background() {
  local name=$1 why=$2; shift 2
  say "$name: started in the background (log: $logs/$name.log)"
  ( s=$SECONDS; "$@"; rc=$?; echo "[$name: $((SECONDS - s)) s, status $rc]"; exit $rc ) \
    >"$logs/$name.log" 2>&1 &
  job_names+=("$name") job_pids+=($!) job_why+=("$why")
}
stop_jobs() { for p in "${job_pids[@]}"; do kill -- -"$p" 2>/dev/null; done; exit 130; }
trap stop_jobs INT TERM

# (a) Rust: the wasm target, and rustfmt/clippy for `make test-native`.
if ! have rustup || ! have cargo; then
  fail "the wasm32 target" "rustup/cargo not found; install Rust with rustup first (https://rustup.rs)"
else
  installed=$(rustup target list --installed)
  if ! grep -qx wasm32-unknown-unknown <<<"$installed"; then
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown || fail "wasm32-unknown-unknown" "rustup target add failed"
  fi
  components=$(rustup component list --installed)
  for c in rustfmt clippy; do
    if ! grep -q "^$c" <<<"$components"; then
      say "rustup component add $c"
      rustup component add "$c" || fail "$c" "rustup component add failed"
    fi
  done
fi

# (b) wasm-bindgen CLI: must equal the wasm-bindgen crate in Cargo.lock, or the
# generated glue does not match the wasm (and wasm-pack would try to download one).
if have cargo; then
  [ -f Cargo.lock ] || cargo generate-lockfile
  wbg_want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  wbg_have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }')
  if [ -z "$wbg_want" ]; then
    fail "wasm-bindgen-cli" "no wasm-bindgen package found in Cargo.lock"
  elif [ "$wbg_have" != "$wbg_want" ]; then
    background "wasm-bindgen-cli-$wbg_want" "cargo install failed (have: ${wbg_have:-none})" \
      cargo_install wasm-bindgen-cli --version "$wbg_want" --force
  fi

  # (c) wasm-pack: any recent version; it takes wasm-bindgen and wasm-opt from PATH.
  if ! have wasm-pack; then
    background wasm-pack "cargo install failed" cargo_install wasm-pack
  fi
fi

# (d) Chromium and ChromeDriver from Debian, for the headless browser tests, and wrk, the load
# tool of the benchmarks (make bench-smoke runs in make test).
# (Test tools cannot download their own browser here: only package registries are reachable.)
chromium=${CHROMIUM:-/usr/bin/chromium} chromedriver=${CHROMEDRIVER:-/usr/bin/chromedriver}
apt_packages=()
if [ ! -x "$chromium" ] || [ ! -x "$chromedriver" ]; then apt_packages+=(chromium chromium-driver); fi
have wrk || apt_packages+=(wrk)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if ! have apt-get; then
    fail "${apt_packages[*]}" "no apt-get: install Chromium and ChromeDriver (same version) by hand as $chromium and $chromedriver, and wrk"
  elif [ "$(id -u)" -ne 0 ] && ! { have sudo && sudo -v; }; then
    fail "${apt_packages[*]}" "apt-get needs root: run as root, or with sudo rights"
  else
    # apt-get update only now that something is to be installed.
    install_chromium() {
      as_root apt-get update -q && as_root apt-get install -y -q "${apt_packages[@]}"
    }
    export DEBIAN_FRONTEND=noninteractive
    background chromium "apt-get failed (no access to the Debian archive?)" install_chromium
  fi
fi

# (e) npm dev tools (binaryen's wasm-opt; Debian's binaryen is too old for wasm-bindgen 0.2.130;
# xterm.js for the demo page).
# npm ci when node_modules is missing or older than the lockfile.
if ! have npm; then
  fail "npm dev tools (binaryen)" "node/npm not found; install Node.js 20+ with npm"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund || fail "npm dev tools" "npm ci failed (see above)"
fi

# Wait for the background steps; a failed one shows the end of its log.
for i in "${!job_pids[@]}"; do
  name=${job_names[$i]}
  if wait "${job_pids[$i]}"; then
    say "$(tail -n 1 "$logs/$name.log")"
  else
    echo "--- end of $logs/$name.log" >&2
    tail -n 40 "$logs/$name.log" >&2
    fail "$name" "${job_why[$i]}"
  fi
done

# Summary: one line per tool, so a CI log shows what the run used.
version_of() { local v; v=$("$@" 2>/dev/null | head -n1); echo "${v:-not found}"; }
echo "--- tool versions"
printf '%-16s %s\n' \
  rustc "$(version_of rustc --version)" \
  wasm-bindgen "$(version_of wasm-bindgen --version)" \
  wasm-pack "$(version_of wasm-pack --version)" \
  wasm-opt "$(version_of wasm-opt --version) ($(command -v wasm-opt || echo none))" \
  chromium "$(version_of "$chromium" --version)" \
  chromedriver "$(version_of "$chromedriver" --version)" \
  node "$(version_of node --version)"

if [ ${#failures[@]} -gt 0 ]; then
  printf 'install.sh: NOT installed: %s\n' "${failures[*]}" >&2
  exit 1
fi
