#!/usr/bin/env bash
# How much evloop costs a program: stripped release size (and what it adds over a plain Rust
# hello world), how many crates it brings in at run time, and how long a clean build takes;
# and the same for one HTTP GET, beside the same GET written with tokio + hyper, and for the
# runtime alone, beside the same program on tokio alone. Every program is built twice: with the
# default release profile, and with a size-tuned one applied alike to every program (hello
# world included). Last, where the bytes are: evloop's programs are built once more, unstripped,
# and their code symbols grouped by crate and module.
#
# Run with: scripts/footprint.sh            (from anywhere; needs cargo and crates.io, and root
#                                            the first time, for scripts/peers.sh to install nginx)
#
# The programs measured:
#   scripts/footprint/src/main.rs       evloop: sleep 10 ms + spawn, three times (the runtime alone)
#   scripts/footprint/src/get.rs        evloop: one GET with evloop::http::Client, prints status and length
#   scripts/footprint-tokio/src/main.rs tokio: the same sleep + spawn (tokio's `rt` and `time` only)
#   scripts/footprint-hyper/src/main.rs tokio + hyper: the same GET (hyper-util's legacy Client)
#   a plain hello world                 the baseline every "adds" is measured from
# The targets (issue 16): the runtime alone adds at most 64 KB, one GET at most 205 KB, in the
# default release profile. The size-tuned profile is the usual one for small binaries:
# opt-level = "z", lto = true, codegen-units = 1, panic = "abort", set through cargo's
# CARGO_PROFILE_RELEASE_* variables so it applies to every program (and its dependencies) alike.
#
# Everything is built in a temporary directory with its own target dirs, so the main build and
# its target/ are never touched. The GET programs are then run against the nginx that
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

# 1. Temporary copies of the three program crates, the evloop one pointing at this checkout,
#    each with the main workspace's lock file so they build the dependency versions the bench uses.
programs="footprint footprint-tokio footprint-hyper"
for crate in $programs; do cp -r "$root/scripts/$crate" "$work/$crate"; done
sed -i "s|^evloop = { path = \"../..\", default-features = false }|evloop = { path = \"$root\", default-features = false }|" "$work/footprint/Cargo.toml"
grep -q "path = \"$root\"" "$work/footprint/Cargo.toml" || { echo "footprint.sh: could not point the copy at $root" >&2; exit 1; }
if [ -f "$root/Cargo.lock" ]; then
    for crate in $programs; do cp "$root/Cargo.lock" "$work/$crate/Cargo.lock"; done
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
#    Each gets a target dir of its own, so no build reuses another's dependencies. The size-tuned
#    builds follow (timed too), then the unstripped evloop build the symbol tables come from.
for crate in $programs; do (cd "$work/$crate" && cargo fetch --quiet); done
size_profile=(CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=true
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort)
seconds() { date +%s.%N; }
build() { # build DIR SUFFIX [VAR=VALUE...] -> prints seconds taken; target dir target-DIR-SUFFIX
    local dir="$1" suffix="$2" start end
    shift 2
    start=$(seconds)
    (cd "$dir" && env "$@" CARGO_TARGET_DIR="$work/target-$(basename "$dir")-$suffix" \
        cargo build --release --offline --quiet)
    end=$(seconds)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}
declare -A took
for crate in $programs hello; do took[$crate]=$(build "$work/$crate" default); done
for crate in $programs hello; do took[$crate-size]=$(build "$work/$crate" size "${size_profile[@]}"); done
for crate in footprint hello; do build "$work/$crate" symbols CARGO_PROFILE_RELEASE_STRIP=none > /dev/null; done
# The lean client: evloop with every optional feature off (no cookie jar), default profile.
(cd "$work/footprint" && CARGO_TARGET_DIR="$work/target-footprint-lean" cargo build --release --offline --quiet --no-default-features)

bin() { # bin PROFILE NAME -> the path of the program NAME built with PROFILE (default, size)
    case "$2" in
        evloop-footprint | evloop-get) echo "$work/target-footprint-$1/release/$2" ;;
        evloop-get-lean) echo "$work/target-footprint-lean/release/evloop-get" ;;
        tokio-footprint) echo "$work/target-footprint-tokio-$1/release/$2" ;;
        hyper-get) echo "$work/target-footprint-hyper-$1/release/$2" ;;
        hello) echo "$work/target-hello-$1/release/hello" ;;
    esac
}
for profile in default size; do   # the sleepers must run, not only build
    "$(bin $profile evloop-footprint)" > /dev/null
    "$(bin $profile tokio-footprint)" > /dev/null
done

# 4. The GET programs must work too: against nginx's /hello.txt (25 bytes), in both profiles.
mkdir -p "$peers_state"
if ! bash "$root/scripts/peers.sh" start "$peers_state" 2>"$work/peers.log"; then
    cat "$work/peers.log" >&2
    echo "footprint.sh: scripts/peers.sh could not start nginx, so the GET programs cannot be checked" >&2
    exit 1
fi
nginx=$(sed -n 's/^EVLOOP_NGINX=//p' "$peers_state/peers.env")
evloop_said=$("$(bin default evloop-get)" "$nginx/hello.txt")
hyper_said=$("$(bin default hyper-get)" "$nginx/hello.txt")
for said in "$evloop_said" "$hyper_said" "$("$(bin size evloop-get)" "$nginx/hello.txt")" \
    "$("$(bin default evloop-get-lean)" "$nginx/hello.txt")" \
    "$("$(bin size hyper-get)" "$nginx/hello.txt")"; do
    [ "$said" = "200 25 bytes" ] || { echo "footprint.sh: a GET program printed \"$said\", not \"200 25 bytes\"" >&2; exit 1; }
done

size() { stat -c %s "$1"; }
adds() { echo $(($(size "$(bin "$1" "$2")") - $(size "$(bin "$1" hello)"))); }
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
verdict() { [ "$1" -le "$2" ] && echo "met" || echo "MISSED"; }
table() { # table PROFILE TITLE
    local p="$1" e_sleep e_get t_sleep h_get
    e_sleep=$(adds "$p" evloop-footprint) e_get=$(adds "$p" evloop-get)
    t_sleep=$(adds "$p" tokio-footprint) h_get=$(adds "$p" hyper-get)
    printf 'evloop footprint: %s, %s, %s, stripped\n' "$(rustc --version)" "$(uname -m)" "$2"
    printf '  %-48s %9s bytes\n' "plain hello world" "$(size "$(bin "$p" hello)")"
    row "evloop: sleep 10 ms + spawn, 3 times" "$(size "$(bin "$p" evloop-footprint)")" "$e_sleep"
    row "tokio: sleep 10 ms + spawn, 3 times" "$(size "$(bin "$p" tokio-footprint)")" "$t_sleep"
    row "evloop: one GET (evloop::http::Client)" "$(size "$(bin "$p" evloop-get)")" "$e_get"
    if [ "$p" = default ]; then
        row "evloop: one GET, --no-default-features" "$(size "$(bin "$p" evloop-get-lean)")" "$(adds "$p" evloop-get-lean)"
    fi
    row "tokio + hyper: one GET (hyper-util legacy Client)" "$(size "$(bin "$p" hyper-get)")" "$h_get"
    printf '  %-48s %9s   (tokio alone: %s)\n' "evloop's runtime adds / tokio's" \
        "$(awk -v e="$e_sleep" -v t="$t_sleep" 'BEGIN { printf "%.2f", e / t }')" "$t_sleep"
    printf '  %-48s %9s   (tokio + hyper: %s)\n' "evloop's GET adds / tokio+hyper's" \
        "$(awk -v e="$e_get" -v h="$h_get" 'BEGIN { printf "%.2f", e / h }')" "$h_get"
    if [ "$p" = default ]; then
        printf '  %-48s %9s   (target <= 65536: %s)\n' "runtime alone adds" "$e_sleep" "$(verdict "$e_sleep" 65536)"
        printf '  %-48s %9s   (target <= 209920: %s)\n' "one GET adds" "$e_get" "$(verdict "$e_get" 209920)"
    fi
}
table default "release profile"
printf '  %-48s %9s   (tokio + hyper: %s)\n' "run-time dependencies (cargo tree -e normal)" \
    "$(count "$evloop_deps")" "$(count "$hyper_deps")"
printf '  %-48s %9s s (tokio alone: %s s; tokio + hyper: %s s; hello world: %s s)\n' \
    "clean release build, evloop + dependencies" "${took[footprint]}" "${took[footprint-tokio]}" \
    "${took[footprint-hyper]}" "${took[hello]}"
printf '  %-48s evloop-get: %s; hyper-get: %s\n' "GET $nginx/hello.txt (nginx, peers.sh)" "$evloop_said" "$hyper_said"
printf '  dependencies (evloop): %s\n' "$(list "$evloop_deps")"
printf '  dependencies (tokio + hyper): %s\n' "$(list "$hyper_deps")"
echo
table size 'size-tuned profile (opt-level "z", lto, codegen-units 1, panic "abort")'
printf '  %-48s %9s s (tokio alone: %s s; tokio + hyper: %s s; hello world: %s s)\n' \
    "clean size-tuned build, evloop + dependencies" "${took[footprint-size]}" \
    "${took[footprint-tokio-size]}" "${took[footprint-hyper-size]}" "${took[hello-size]}"

# 6. Where the bytes are, default profile: the unstripped builds' sections and code symbols
#    (`nm -S -C`), each symbol counted by how much it grew over the smaller program (a symbol
#    both have, at the same size, counts nothing), then grouped by crate and module (its first two
#    path segments; drop glue, `core::ptr::drop_in_place<T>`, by T's crate and module).
#    Symbols cover code only: the unwind tables (.eh_frame, .gcc_except_table), read-only data and
#    relocations grow with the code and are shown as sections.
sections() { # sections BIG SMALL -> the sections that grew, in bytes
    command size -A "$1" | awk 'NR > 2 && $1 ~ /^\./ && $1 !~ /^\.debug/ { print "big", $1, $2 }' > "$work/sections"
    command size -A "$2" | awk 'NR > 2 && $1 ~ /^\./ && $1 !~ /^\.debug/ { print "small", $1, $2 }' >> "$work/sections"
    awk '$1 == "big" { b[$2] = $3 } $1 == "small" { s[$2] = $3 }
         END { for (k in b) if (b[k] - s[k] >= 512) printf "%s %d\n", k, b[k] - s[k] }' "$work/sections" \
        | sort -k2 -rn | awk '{ printf "%s %d, ", $1, $2 }' | sed 's/, $//'
}
symbols() { # symbols BIN -> "size name" per code symbol: same-named ones summed, each address once
    nm -S -C -t d "$1" | awk '$3 ~ /^[tTwW]$/ && !seen[$1]++ { size = $2 + 0; $1 = $2 = $3 = ""; sub(/^ +/, ""); s[$0] += size }
        END { for (n in s) print s[n] "\t" n }'
}
grown() { # grown BIG SMALL -> "bytes<TAB>name" for every symbol BIG has more of than SMALL
    symbols "$2" > "$work/small.syms"
    symbols "$1" | awk -F '\t' 'NR == FNR { s[$2] = $1; next } $1 - s[$2] > 0 { print $1 - s[$2] "\t" $2 }' \
        "$work/small.syms" -
}
group() { # "bytes<TAB>name" lines -> "bytes<TAB>crate::module", largest first
    awk -F '\t' '{ n = $2; glue = sub(/^core::ptr::drop_in_place</, "", n); sub(/^[<&]+/, "", n)
        split(n, p, "::"); k = p[1] (p[2] != "" ? "::" p[2] : ""); gsub(/[<>&].*$/, "", k)
        if (glue) k = "drop glue of " k; g[k] += $1 }
        END { for (k in g) print g[k] "\t" k }' | sort -rn
}
items() { # items BIG SMALL TITLE
    grown "$1" "$2" > "$work/grown"
    printf '\n%s: %s bytes of code symbols\n' "$3" "$(awk -F '\t' '{ t += $1 } END { print t + 0 }' "$work/grown")"
    printf '  sections that grew: %s\n' "$(sections "$1" "$2")"
    echo "  by crate and module:"
    group < "$work/grown" | sed -n 1,16p | awk -F '\t' '{ printf "    %7d  %s\n", $1, $2 }'
    echo "  largest symbols:"
    sort -rn "$work/grown" | sed -n 1,16p | awk -F '\t' '{ printf "    %7d  %s\n", $1, substr($2, 1, 110) }'
}
printf '\nBiggest items, default release profile, unstripped (nm -S -C; code symbols only)\n'
items "$(bin symbols evloop-footprint)" "$(bin symbols hello)" "evloop: sleep + spawn over hello world"
items "$(bin symbols evloop-get)" "$(bin symbols evloop-footprint)" "evloop: one GET over sleep + spawn"
