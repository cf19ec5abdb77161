#!/usr/bin/env bash
# How much evloop costs a program: stripped release size (and what it adds over a plain Rust
# hello world), how many crates it brings in at run time, and how long a clean build takes.
#
# Run with: scripts/footprint.sh            (from anywhere; needs only cargo and crates.io)
#
# Everything is built in a temporary directory with its own target dir, so the main build and
# its target/ are never touched. The program measured is scripts/footprint/ (see its main.rs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/evloop-footprint.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"   # overrides any CARGO_TARGET_DIR from the caller

# 1. A temporary copy of the footprint crate, pointing at this checkout of evloop, with the
#    main workspace's lock file so it builds the same dependency versions.
cp -r "$root/scripts/footprint" "$work/footprint"
sed -i "s|^evloop = { path = \"../..\" }|evloop = { path = \"$root\" }|" "$work/footprint/Cargo.toml"
grep -q "path = \"$root\"" "$work/footprint/Cargo.toml" || { echo "footprint.sh: could not point the copy at $root" >&2; exit 1; }
[ -f "$root/Cargo.lock" ] && cp "$root/Cargo.lock" "$work/footprint/Cargo.lock"

# 2. The plain hello world, same edition and profile.
mkdir -p "$work/hello/src"
cat > "$work/hello/Cargo.toml" <<'TOML'
[package]
name = "hello"
version = "0.0.0"
edition = "2024"
publish = false

[profile.release]
strip = "symbols"

[workspace]
TOML
echo 'fn main() { println!("Hello, world!"); }' > "$work/hello/src/main.rs"

# 3. Download first (not timed), then clean builds (timed, offline so only compiling counts).
(cd "$work/footprint" && cargo fetch --quiet)
seconds() { date +%s.%N; }
build() { # build DIR -> prints seconds taken
    local start end
    start=$(seconds)
    (cd "$1" && cargo build --release --offline --quiet)
    end=$(seconds)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}
evloop_time=$(build "$work/footprint")
hello_time=$(build "$work/hello")

program="$CARGO_TARGET_DIR/release/evloop-footprint"
hello="$CARGO_TARGET_DIR/release/hello"
"$program" > /dev/null   # it must run, not only build
program_bytes=$(stat -c %s "$program")
hello_bytes=$(stat -c %s "$hello")

# 4. evloop's run-time dependencies: its normal (non-dev, non-build) dependency tree, each crate
#    counted once.
deps=$(cd "$work/footprint" && cargo tree --offline -e normal --prefix none -p evloop \
    | sed 's/ (\*)$//; s/ (proc-macro)$//' | awk '$1 != "evloop" { print $1 " " $2 }' | sort -u)
dep_count=$(printf '%s\n' "$deps" | grep -c . || true)

printf 'evloop footprint: %s, %s, release profile, stripped\n' "$(rustc --version)" "$(uname -m)"
printf '  %-44s %10s bytes\n' "program (sleep 10 ms + spawn, 3 times)" "$program_bytes"
printf '  %-44s %10s bytes\n' "plain hello world" "$hello_bytes"
printf '  %-44s %10s bytes\n' "evloop adds" "$((program_bytes - hello_bytes))"
printf '  %-44s %10s\n' "run-time dependencies (cargo tree -e normal)" "$dep_count"
printf '  %-44s %10s s   (hello world: %s s)\n' "clean release build, evloop + dependencies" "$evloop_time" "$hello_time"
printf '  dependencies: %s\n' "$(printf '%s\n' "$deps" | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
