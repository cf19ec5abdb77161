#!/usr/bin/env bash
# User-space instructions per keep-alive HTTP request, evloop's client beside hyper's: the
# client-CPU measure of BENCHMARKS.md ("Instructions per HTTP request"). Loopback kernel time is
# the same for every client, so what a client can change is its own user-space work, and
# callgrind counts that exactly, even on a loaded machine.
#
# Run with: scripts/http_instructions.sh             (from anywhere; needs cargo, and root the
#                                                     first time, to install valgrind and nginx)
#
# What it does, end to end:
#   1. builds the bench (`cargo bench -p evloop-bench --bench compare --no-run`);
#   2. starts nginx with scripts/peers.sh in <target>/http-peers (stopped on exit);
#   3. for each workload (http_seq, http_conc) and client (evloop, hyper) runs the bench under
#      `valgrind --tool=callgrind` twice, at N1 and N2 requests (`--reps 1`);
#   4. prints (instructions at N2 - instructions at N1) / (N2 - N1): the fixed costs (start-up,
#      the untimed connects, the runtime's own set-up) cancel, and what is left is what one more
#      keep-alive request costs, the whole process counted (every thread, libc included).
#
# Settings, from the environment:
#   N1, N2      the two request counts (default 2000 and 4000; http_conc's N must be a multiple
#               of its connection count, 100, for every task to make the same number of requests)
#   WORKLOADS   default "http_seq http_conc"
#   RUNTIMES    default "evloop hyper"
#   BENCH_ARGS  more arguments for the bench (e.g. a connection count, where the bench takes one)
# The callgrind files stay in <target>/http-instructions/ for
#   callgrind_annotate --inclusive=yes <target>/http-instructions/http_seq-evloop-4000.out
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
out="$target/http-instructions"
peers="$target/http-peers"   # beside bench-peers, so both share <target>/peers-venv
n1=${N1:-2000}
n2=${N2:-4000}
workloads=${WORKLOADS:-"http_seq http_conc"}
runtimes=${RUNTIMES:-"evloop hyper"}
read -r -a bench_args <<< "${BENCH_ARGS:-}"
[ "$n2" -gt "$n1" ] || { echo "http_instructions.sh: N2 ($n2) must be larger than N1 ($n1)" >&2; exit 2; }

if ! command -v valgrind >/dev/null 2>&1; then
    echo "http_instructions.sh: installing valgrind (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq valgrind >/dev/null
fi

# 1. The bench binary: cargo prints its path on the "Executable" line.
cd "$root"
mkdir -p "$out"
bench=$(cargo bench -p evloop-bench --bench compare --no-run 2>&1 | tee "$out/build.log" \
    | sed -n 's/.*(\(.*compare-[0-9a-f]*\)).*/\1/p' | tail -n 1) || true
[ -x "$bench" ] || { echo "http_instructions.sh: the bench did not build; see $out/build.log" >&2; exit 1; }

# 2. nginx, named to the bench by EVLOOP_NGINX so that the bench starts no peers of its own.
mkdir -p "$peers"
cleanup() { bash "$root/scripts/peers.sh" stop "$peers" 2>/dev/null || true; }
trap cleanup EXIT
bash "$root/scripts/peers.sh" start "$peers"
export "$(grep '^EVLOOP_NGINX=' "$peers/peers.env")"

# 3. Two counted runs per workload and client. callgrind's summary line is "Collected : N".
count() { # workload runtime n
    local file="$out/$1-$2-$3.out"
    valgrind --tool=callgrind --callgrind-out-file="$file" \
        "$bench" --only "$1" --runtime "$2" --reps 1 --n "$3" "${bench_args[@]}" \
        > "$out/$1-$2-$3.log" 2>&1 \
        || { echo "http_instructions.sh: the run failed; see $out/$1-$2-$3.log" >&2; exit 1; }
    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$out/$1-$2-$3.log"
}

# 4. The table.
echo
echo "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' + local changes'), load: $(uptime | sed 's/.*load average: //')"
printf '%-10s %-7s %14s %14s %12s\n' workload client "instr N=$n1" "instr N=$n2" "per request"
for workload in $workloads; do
    for runtime in $runtimes; do
        a=$(count "$workload" "$runtime" "$n1")
        b=$(count "$workload" "$runtime" "$n2")
        printf '%-10s %-7s %14s %14s %12s\n' "$workload" "$runtime" "$a" "$b" \
            "$(( (b - a + (n2 - n1) / 2) / (n2 - n1) ))"
    done
done
