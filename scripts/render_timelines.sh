#!/usr/bin/env bash
# Renders the SVG timelines of a few examples in a real browser (headless Chromium) and checks the
# pictures: each PNG must not be blank, and each SVG must have one row per task of its record
# (the Chrome trace of the same run names the tasks: both counts must agree).
#
#   bash scripts/render_timelines.sh            # PNGs and SVGs land in target/timelines/
#
# The examples: semaphore (200 tasks: the 100-worker run twice), say_after (2 tasks), hello (a
# spawned task and the block_on future), echo (sockets: I/O wakes), blocking (the blocking pool).
# Installs Debian's `chromium` if it is missing (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get install -y chromium >/dev/null
fi

out=target/timelines
mkdir -p "$out"
cargo build --quiet --examples

examples=(semaphore say_after hello echo blocking)
for name in "${examples[@]}"; do
  # The SVG and the trace come from two runs; on --virtual (or with a fixed set of tasks, as in
  # echo and blocking) both runs have the same tasks.
  cargo run --quiet --example "$name" -- --virtual --timeline "$out/$name.svg" >/dev/null 2>&1
  cargo run --quiet --example "$name" -- --virtual --timeline "$out/$name.json" >/dev/null 2>&1
  size=$(python3 scripts/check_timelines.py size "$out/$name.svg")
  profile=$(mktemp -d)
  # These flags keep Chromium off the network (this machine refuses it, and Chromium stalls).
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --screenshot="$out/$name.png" \
    --window-size="$size" "file://$PWD/$out/$name.svg" >/dev/null 2>&1
  rm -rf "$profile"
done

python3 scripts/check_timelines.py check "${examples[@]/#/$out/}"
echo "timelines: $out/*.svg rendered to $out/*.png and checked"
