#!/usr/bin/env bash
# ThreadSanitizer over the paths other threads take into a loop: remote wakes through the inbox
# (scheduler/inbox.rs), the task's atomic reference count (task/raw.rs, task/waker.rs),
# call_soon_threadsafe, and the blocking pool (thread_pool.rs, blocking.rs). DESIGN.md §11.
#
# Run with: scripts/tsan.sh [extra cargo test arguments]     (from anywhere)
#
# Needs a nightly toolchain with rust-src (installed below if missing): TSan must see every
# memory access, std's included, so std is rebuilt with the sanitizer (-Zbuild-std). That costs
# a few minutes the first time; the build lives in <target>/tsan, apart from the normal one, and
# later runs only rebuild evloop. Any race report fails the run (TSan exits with 66).
# The time limit (EVLOOP_TSAN_TIMEOUT, seconds, default 1800) bounds a stuck test or a
# first build on a slow machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
main_target="${CARGO_TARGET_DIR:-$root/target}"
case "$main_target" in /*) ;; *) main_target="$root/$main_target" ;; esac
export CARGO_TARGET_DIR="$main_target/tsan"

if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
    rustup component add --toolchain nightly rust-src
fi

host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="${RUSTFLAGS:-} -Zsanitizer=thread"
export RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -Zsanitizer=thread"
# halt_on_error: stop at the first report, with its stacks, rather than bury it in later ones.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"

timeout "${EVLOOP_TSAN_TIMEOUT:-1800}" \
    cargo +nightly test -Zbuild-std --target "$host" \
    --test runtime_cross_thread --test task_waker --test blocking_pool "$@"
