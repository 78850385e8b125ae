#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Runs the cargo-fuzz targets of fuzz/ (default: all of them) one after another for
# SECONDS_PER_TARGET each (default 60), then prints the executions per target.
#
# Needs the nightly toolchain and cargo-fuzz; installs whichever is missing (crates.io access and
# a C/C++ compiler), and says so and stops when it cannot.
# Each run starts from the committed seeds (fuzz/corpus/<target>/, only read) plus the corpus
# earlier runs grew (fuzz/work/<target>/, not committed). A crash stops the script with its input
# in fuzz/artifacts/<target>/: minimise it (cargo +nightly fuzz tmin <target> <file>), commit it
# to fuzz/regressions/<target>/ and name it in a test of tests/fuzz_corpus.rs.
# Env: FUZZ_ARGS (extra libFuzzer flags, e.g. "-only_ascii=1 -rss_limit_mb=4096").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

seconds="${1:-60}"
[ $# -gt 0 ] && shift
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;;
esac
all_targets=(token_decode retry_after response error_body api_url json catchup sse exec_stream ndjson)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

fail() { echo "fuzz.sh: $*" >&2; exit 1; }

# Tools, only those missing.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing the nightly toolchain (cargo-fuzz needs -Zsanitizer)" >&2
  rustup toolchain install nightly --profile minimal \
    || fail "cannot install the nightly toolchain (is rustup able to reach static.rust-lang.org?)"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz (cargo install, a minute or two)" >&2
  cargo install cargo-fuzz --locked \
    || fail "cannot install cargo-fuzz: 'cargo install cargo-fuzz' failed (needs crates.io and a C++ compiler); fuzzing skipped"
fi

echo "fuzz.sh: building the targets ($(cargo fuzz --version))" >&2
cargo +nightly fuzz build --fuzz-dir fuzz >&2 || fail "the fuzz targets do not build (cargo +nightly fuzz build --fuzz-dir fuzz)"

logs="$root/fuzz/work/logs"
mkdir -p "$logs"
declare -a summary=()
status=0
for target in "${targets[@]}"; do
  [ -d "fuzz/corpus/$target" ] || fail "no seed corpus fuzz/corpus/$target/"
  mkdir -p "fuzz/work/$target"
  flags=()
  case "$target" in
    response | error_body) flags=(-dict=fuzz/dict/json.dict) ;;
    *) [ -f "fuzz/dict/$target.dict" ] && flags=(-dict="fuzz/dict/$target.dict") ;;
  esac
  # Past the 16 KiB a token may have (libFuzzer stops at 4 KiB otherwise).
  [ "$target" = token_decode ] && flags+=(-max_len=20000)
  # Earlier crashes are seeds too.
  seeds=("fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && seeds+=("fuzz/regressions/$target")
  log="$logs/$target.log"
  echo "fuzz.sh: $target for ${seconds}s (log: ${log#"$root"/})" >&2
  started=$SECONDS
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags on purpose
  if cargo +nightly fuzz run --fuzz-dir fuzz "$target" "fuzz/work/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 "${flags[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  elapsed=$((SECONDS - started))
  # libFuzzer's final stats; "#N DONE" as a fallback.
  execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)"
  [ -n "$execs" ] || execs="$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n1)"
  execs="${execs:-?}"
  corpus="$(find "fuzz/work/$target" -type f | wc -l)"
  summary+=("$(printf '%-14s %6ss %12s execs %8s exec/s %6s corpus  %s' "$target" "$elapsed" "$execs" \
    "$([ "$execs" != '?' ] && [ "$elapsed" -gt 0 ] && echo $((execs / elapsed)) || echo '?')" "$corpus" "$result")")
  if [ "$result" = CRASH ]; then
    echo "fuzz.sh: $target crashed; the end of its log:" >&2
    tail -n 40 "$log" >&2
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)"
    [ -n "$artifact" ] && echo "fuzz.sh: input: $artifact (cargo +nightly fuzz tmin --fuzz-dir fuzz $target $artifact)" >&2
    break
  fi
done

echo
echo "target          time        executions      rate   work corpus"
printf '%s\n' "${summary[@]}"
exit "$status"
