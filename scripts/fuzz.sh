#!/usr/bin/env bash
# Fuzzes each parser of the HTTP protocol layer for a bounded time, one target after another:
#
#   bash scripts/fuzz.sh [seconds-per-target [target...]]   (default 20 s, every target; CI: 20)
#
# The targets live in fuzz/ (a cargo-fuzz project, its own workspace): what each one checks is
# written in fuzz/src/lib.rs. Each starts from the seeds in fuzz/corpus/<target>/seed-* plus
# whatever earlier runs on this machine added there (those files are not in git). A crash, a
# timeout or running out of memory fails the script; libFuzzer's report names the input it
# saved under fuzz/artifacts/<target>/, and `cargo +nightly fuzz run <target> <that file>`
# replays it.
#
# Needs the nightly toolchain and cargo-fuzz, and installs either one when missing.
# FUZZ_SANITIZER=none (default: address) builds without AddressSanitizer, several times faster;
# the code fuzzed is safe Rust, but httparse's SIMD paths are not. FUZZ_TARGET_DIR (default:
# fuzz/target) is where the instrumented builds go, kept apart from the stable builds.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
sanitizer="${FUZZ_SANITIZER:-address}"
target_dir="${FUZZ_TARGET_DIR:-fuzz/target}"
targets=(response_head body_framing chunked_decoder url line_reader set_cookie chunk_extension gzip_header)
if [ "$#" -gt 1 ]; then
  targets=("${@:2}")
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# One build for every target (the runs below then find nothing to rebuild).
fuzz() { env -u CARGO_TARGET_DIR cargo +nightly fuzz "$@"; }
fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir"

summary=()
for target in "${targets[@]}"; do
  printf '\n--- fuzz %s for %s s ---\n' "$target" "$seconds"
  mkdir -p "fuzz/corpus/$target"
  log="$(mktemp)"
  # -timeout: one input taking 30 s is a bug (every target is at most quadratic in a few KiB).
  if ! fuzz run --sanitizer "$sanitizer" --target-dir "$target_dir" "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tee "$log"; then
    echo "fuzz.sh: $target FAILED: see the report above and fuzz/artifacts/$target/" >&2
    rm -f "$log"
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  corpus="$(grep -oE 'corp: [0-9]+/[0-9a-zA-Z]+' "$log" | tail -1 | cut -d' ' -f2)"
  summary+=("$(printf '%-16s %12s runs %8s exec/s  corpus %s' "$target" "$runs" "$rate" "$corpus")")
  rm -f "$log"
done

printf '\n--- fuzz summary: %s s per target, sanitizer %s, no crash ---\n' "$seconds" "$sanitizer"
printf '%s\n' "${summary[@]}"
