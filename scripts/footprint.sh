#!/usr/bin/env bash
# How much evloop costs a program: stripped release size (and what it adds over a plain Rust
# hello world), how many crates it brings in at run time, and how long a clean build takes;
# and the same for one HTTP GET, beside the same GET written with tokio + hyper.
#
# Run with: scripts/footprint.sh            (from anywhere; needs cargo and crates.io, and root
#                                            the first time, for scripts/peers.sh to install nginx)
#
# The programs measured:
#   scripts/footprint/src/main.rs       evloop: sleep 10 ms + spawn, three times (the runtime alone)
#   scripts/footprint/src/get.rs        evloop: one GET with evloop::http::Client, prints status and length
#   scripts/footprint-hyper/src/main.rs tokio + hyper: the same GET (hyper-util's legacy Client)
#   a plain hello world                 the baseline every "adds" is measured from
# The issue's target: evloop's GET adds at most a quarter of the bytes tokio + hyper's adds.
#
# Everything is built in a temporary directory with its own target dir, so the main build and
# its target/ are never touched. Both GET programs are then run against the nginx that
# scripts/peers.sh starts (state in <target>/footprint-peers), which is stopped on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
main_target="${CARGO_TARGET_DIR:-$root/target}"
case "$main_target" in /*) ;; *) main_target="$root/$main_target" ;; esac
peers_state="$main_target/footprint-peers"
work="$(mktemp -d "${TMPDIR:-/tmp}/evloop-footprint.XXXXXX")"
cleanup() {
    bash "$root/scripts/peers.sh" stop "$peers_state" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export CARGO_TARGET_DIR="$work/target"   # overrides any CARGO_TARGET_DIR from the caller

# 1. Temporary copies of the two program crates, the evloop one pointing at this checkout, each
#    with the main workspace's lock file so they build the dependency versions the bench uses.
cp -r "$root/scripts/footprint" "$work/footprint"
cp -r "$root/scripts/footprint-hyper" "$work/footprint-hyper"
sed -i "s|^evloop = { path = \"../..\" }|evloop = { path = \"$root\" }|" "$work/footprint/Cargo.toml"
grep -q "path = \"$root\"" "$work/footprint/Cargo.toml" || { echo "footprint.sh: could not point the copy at $root" >&2; exit 1; }
if [ -f "$root/Cargo.lock" ]; then
    cp "$root/Cargo.lock" "$work/footprint/Cargo.lock"
    cp "$root/Cargo.lock" "$work/footprint-hyper/Cargo.lock"
fi

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
#    Each gets a target dir of its own, so no build reuses another's dependencies.
(cd "$work/footprint" && cargo fetch --quiet)
(cd "$work/footprint-hyper" && cargo fetch --quiet)
seconds() { date +%s.%N; }
build() { # build DIR -> prints seconds taken
    local start end
    start=$(seconds)
    (cd "$1" && CARGO_TARGET_DIR="$work/target-$(basename "$1")" cargo build --release --offline --quiet)
    end=$(seconds)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}
evloop_time=$(build "$work/footprint")
hyper_time=$(build "$work/footprint-hyper")
hello_time=$(build "$work/hello")

sleeper="$work/target-footprint/release/evloop-footprint"
evloop_get="$work/target-footprint/release/evloop-get"
hyper_get="$work/target-footprint-hyper/release/hyper-get"
hello="$work/target-hello/release/hello"
"$sleeper" > /dev/null   # it must run, not only build

# 4. Both GET programs must work too: against nginx's /hello.txt (25 bytes).
mkdir -p "$peers_state"
if ! bash "$root/scripts/peers.sh" start "$peers_state" 2>"$work/peers.log"; then
    cat "$work/peers.log" >&2
    echo "footprint.sh: scripts/peers.sh could not start nginx, so the GET programs cannot be checked" >&2
    exit 1
fi
nginx=$(sed -n 's/^EVLOOP_NGINX=//p' "$peers_state/peers.env")
evloop_said=$("$evloop_get" "$nginx/hello.txt")
hyper_said=$("$hyper_get" "$nginx/hello.txt")
for said in "$evloop_said" "$hyper_said"; do
    [ "$said" = "200 25 bytes" ] || { echo "footprint.sh: a GET program printed \"$said\", not \"200 25 bytes\"" >&2; exit 1; }
done

size() { stat -c %s "$1"; }
sleeper_bytes=$(size "$sleeper")
evloop_get_bytes=$(size "$evloop_get")
hyper_get_bytes=$(size "$hyper_get")
hello_bytes=$(size "$hello")
evloop_adds=$((evloop_get_bytes - hello_bytes))
hyper_adds=$((hyper_get_bytes - hello_bytes))
fraction=$(awk -v e="$evloop_adds" -v h="$hyper_adds" 'BEGIN { printf "%.2f", e / h }')
verdict=$(awk -v e="$evloop_adds" -v h="$hyper_adds" 'BEGIN { print (e <= 0.25 * h) ? "met" : "MISSED" }')

# 5. Run-time dependencies: the normal (non-dev, non-build) dependency tree, each crate counted
#    once: evloop's own, and the hyper program's (tokio, hyper, hyper-util, http-body-util and
#    everything they bring).
deps_of() { # DIR PACKAGE -> one "name version" per line, PACKAGE itself excluded
    (cd "$1" && cargo tree --offline -e normal --prefix none -p "$2") \
        | sed 's/ (\*)$//; s/ (proc-macro)$//' | awk -v self="$2" '$1 != self { print $1 " " $2 }' | sort -u
}
evloop_deps=$(deps_of "$work/footprint" evloop)
hyper_deps=$(deps_of "$work/footprint-hyper" hyper-footprint)
count() { printf '%s\n' "$1" | grep -c . || true; }
list() { printf '%s\n' "$1" | tr '\n' ',' | sed 's/,$//; s/,/, /g'; }

row() { printf '  %-48s %9s bytes   adds %7s\n' "$1" "$2" "$3"; }
printf 'evloop footprint: %s, %s, release profile, stripped\n' "$(rustc --version)" "$(uname -m)"
printf '  %-48s %9s bytes\n' "plain hello world" "$hello_bytes"
row "evloop: sleep 10 ms + spawn, 3 times" "$sleeper_bytes" "$((sleeper_bytes - hello_bytes))"
row "evloop: one GET (evloop::http::Client)" "$evloop_get_bytes" "$evloop_adds"
row "tokio + hyper: one GET (hyper-util legacy Client)" "$hyper_get_bytes" "$hyper_adds"
printf '  %-48s %9s   (target <= 0.25: %s)\n' "evloop's GET adds / tokio+hyper's GET adds" "$fraction" "$verdict"
printf '  %-48s %9s   (tokio + hyper: %s)\n' "run-time dependencies (cargo tree -e normal)" \
    "$(count "$evloop_deps")" "$(count "$hyper_deps")"
printf '  %-48s %9s s (tokio + hyper: %s s; hello world: %s s)\n' \
    "clean release build, evloop + dependencies" "$evloop_time" "$hyper_time" "$hello_time"
printf '  %-48s evloop-get: %s; hyper-get: %s\n' "GET $nginx/hello.txt (nginx, peers.sh)" "$evloop_said" "$hyper_said"
printf '  dependencies (evloop): %s\n' "$(list "$evloop_deps")"
printf '  dependencies (tokio + hyper): %s\n' "$(list "$hyper_deps")"
