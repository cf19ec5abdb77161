#!/usr/bin/env bash
# Draws the bench's sweep (cost per operation against N, `compare -- --sweep`) as SVG with
# bench/plot_sweep.py, renders it in a real browser (headless Chromium) and checks the picture:
# the PNG is not blank, and the SVG has its panels, each with evloop's line and the peers'.
#
#   bash scripts/render_plots.sh                      # the committed sweep: bench/plots/sweep.json
#   bash scripts/render_plots.sh target/bench/compare-sweep.json   # a sweep just run
#
# The committed bench/plots/sweep.svg must be exactly what the script draws from
# bench/plots/sweep.json (so the picture in BENCHMARKS.md never drifts from the script); a sweep
# given on the command line is drawn into target/plots/ only (under $CARGO_TARGET_DIR if set).
# Takes a few seconds.
# Installs Debian's `chromium` if it is missing (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get install -y chromium >/dev/null
fi

out=${CARGO_TARGET_DIR:-target}/plots
mkdir -p "$out"
out=$(cd "$out" && pwd)  # absolute, for Chromium's file:// URL
sweep=${1:-bench/plots/sweep.json}
python3 bench/plot_sweep.py "$sweep" "$out/sweep.svg"
if [ $# -eq 0 ] && ! cmp -s "$out/sweep.svg" bench/plots/sweep.svg; then
  echo "render_plots: bench/plots/sweep.svg is not what bench/plot_sweep.py draws from bench/plots/sweep.json;" >&2
  echo "render_plots: redraw it: python3 bench/plot_sweep.py bench/plots/sweep.json bench/plots/sweep.svg" >&2
  exit 1
fi

size=$(python3 scripts/check_timelines.py size "$out/sweep.svg")
profile=$(mktemp -d)
# These flags keep Chromium off the network (see scripts/render_timelines.sh).
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --screenshot="$out/sweep.png" \
  --window-size="$size" "file://$out/sweep.svg" >/dev/null 2>&1
rm -rf "$profile"

python3 bench/plot_sweep.py check "$out/sweep.svg" "$out/sweep.png"
echo "plots: $sweep drawn to $out/sweep.svg, rendered to $out/sweep.png and checked"
