#!/usr/bin/env python3
"""Draws the bench's `--sweep` (compare-sweep.json) as one SVG, with the standard library only.

  plot_sweep.py SWEEP.json OUT.svg    one small panel per workload: cost per operation against N
                                      (log-log), one line per runtime; then http_conc's CPU and
                                      wall time per request against its connections

A flat line is a cost that does not grow with N; a line that climbs to the right is a cost that
grows with the number of tasks, timers or connections alive at once. The JSON is the one
`cargo bench -p evloop-bench --bench compare -- --sweep` writes (see compare/sweep.rs): entries
`{"name", "unit", "axis", "x", <peer key>: median or null, "spread": {<peer key>: [min, max]}}`,
plus `machine`, `load` (the one-minute load average) and `reps`. Each point is drawn at its median
with a thin bar from min to max. Peers are read from the entries, so a new peer in the bench
shows up here without an edit. Each panel is a `<g class="panel" data-name=…>` whose lines are
`<g class="series" data-peer=… data-points=…>`, which is what scripts/render_plots.sh checks:

  plot_sweep.py check OUT.svg OUT.png    the PNG Chromium made of OUT.svg is not blank, and the SVG
                                         has every panel the JSON had rows for, each with evloop's
                                         line and at least two lines of two points or more
"""
import json
import math
import sys
from xml.sax.saxutils import escape

# (row name in the JSON, panel title); the y axis is labelled with the row's unit. The rows a sweep
# writes that are not here (timer_fire's total and its min and max lateness, memory_rss, the
# user-time and system-call rows) stay in the JSON but are not drawn.
PANELS = [
    ("spawn_join", "spawn_join: spawn N, join all"),
    ("yield", "yield: one task yields N times"),
    ("ping_pong", "ping_pong: two tasks, N hand-offs"),
    ("timer_cancel", "timer_cancel: N sleeps, polled, dropped"),
    ("timer_fire_p99_late", "timer_fire: N sleepers, p99 lateness"),
    ("semaphore", "semaphore: N tasks through 10 permits"),
    ("memory_heap", "memory: N tasks parked, heap"),
    ("http_conc_cpu", "http_conc: client CPU per GET"),
    ("http_conc", "http_conc: wall time per GET"),
]
NOT_PEERS = {"name", "unit", "axis", "x", "spread"}
# A unit whose values reach 10,000 is shown in the next one up, so the ticks read 5, 10, 20 ms
# rather than 5k, 10k, 20k µs.
LARGER = {"ns": ("µs", 1e3), "µs": ("ms", 1e3), "ms": ("s", 1e3)}

# Okabe and Ito's colour-blind-safe palette; evloop keeps the first colour whatever else runs.
COLOURS = ["#D55E00", "#0072B2", "#56B4E9", "#009E73", "#CC79A7", "#E69F00", "#000000", "#F0E442"]
MARKERS = ["circle", "square", "triangle", "diamond", "down", "cross", "circle", "square"]

COLUMNS, PANEL_W, PANEL_H = 3, 330, 250
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 62, 14, 30, 44  # margins inside a panel
MARGIN, HEADER = 16, 92
FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""


def nice_ticks(lo, hi):
    """Ticks for a log axis covering lo..hi: the 1-2-5 values from just below lo to just above
    hi (only the powers of ten when that is more than nine), so both ends sit on a tick."""
    ticks, k = [], math.floor(math.log10(lo)) - 1
    while True:
        for m in (1, 2, 5):
            ticks.append(m * 10.0 ** k)
        if ticks[-1] > hi:
            break
        k += 1
    below = max(i for i, t in enumerate(ticks) if t <= lo * 1.0000001)
    above = min(i for i, t in enumerate(ticks) if t >= hi / 1.0000001)
    ticks = ticks[below:above + 1]
    if len(ticks) > 9:
        first = math.floor(math.log10(lo) + 1e-9)
        last = math.ceil(math.log10(hi) - 1e-9)
        ticks = [10.0 ** k for k in range(first, last + 1)]
    if len(ticks) < 2:
        ticks = [ticks[0], ticks[0] * 2]
    return ticks


def label(v):
    """1000 -> 1k, 1000000 -> 1M, 0.5 -> 0.5."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{v / scale:g}{suffix}"
    return f"{v:g}"


def marker(kind, x, y, colour):
    r = 3.6
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    if kind == "cross":
        return (f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}'
                f'L{x + r:.1f},{y - r:.1f}" stroke="{colour}" stroke-width="2"/>')
    shapes = {"triangle": [(0, -1.25), (1.1, 0.8), (-1.1, 0.8)],
              "down": [(0, 1.25), (1.1, -0.8), (-1.1, -0.8)],
              "diamond": [(0, -1.3), (1.2, 0), (0, 1.3), (-1.2, 0)]}
    points = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in shapes[kind])
    return f'<polygon points="{points}" fill="{colour}"/>'


def panel(out, left, top, title, rows, peers, style):
    """One panel: its frame, log axes with ticks and grid, and one line per peer with data."""
    unit = rows[0]["unit"]
    axis = rows[0]["axis"]
    xs = sorted({r["x"] for r in rows})
    series, left_out = [], []
    for peer in peers:
        dropped = [r["x"] for r in rows if isinstance(r.get(peer), (int, float)) and r[peer] <= 0]
        if dropped:
            left_out.append(f'{peer} at {", ".join(label(x) for x in dropped)}')
        # (x, median, min, max); a log axis cannot show zero or less, so such points are left out.
        points = [(r["x"], r[peer], *r.get("spread", {}).get(peer, [r[peer], r[peer]]))
                  for r in sorted(rows, key=lambda r: r["x"])
                  if isinstance(r.get(peer), (int, float)) and r[peer] > 0]
        if points:
            series.append((peer, points))
    scale = 1
    words = unit.split(" ")
    for i, word in enumerate(words):
        prefix, _, rest = word.partition("/")
        while prefix in LARGER and max([p[1] for _, ps in series for p in ps] or [0]) / scale >= 1e4:
            prefix, factor = LARGER[prefix]
            scale *= factor
        words[i] = prefix + ("/" + rest if rest else "")
    unit = " ".join(words)
    series = [(peer, [tuple(v / scale if j else v for j, v in enumerate(p)) for p in points])
              for peer, points in series]
    medians = [p[1] for _, points in series for p in points]
    values = [v for _, points in series for p in points for v in p[1:] if v > 0]
    out.append(f'<g class="panel" data-name="{escape(rows[0]["name"])}" '
               f'transform="translate({left},{top})">')
    out.append(f'<rect width="{PANEL_W}" height="{PANEL_H}" fill="#fff" stroke="#ccc"/>')
    out.append(f'<text x="{PANEL_W / 2}" y="18" text-anchor="middle" font-size="12.5" '
               f'font-weight="bold" {FONT}>{escape(title)}</text>')
    x0, x1 = PLOT_LEFT, PANEL_W - PLOT_RIGHT
    y0, y1 = PANEL_H - PLOT_BOTTOM, PLOT_TOP
    if not values:
        out.append(f'<text x="{PANEL_W / 2}" y="{PANEL_H / 2}" text-anchor="middle" font-size="12" '
                   f'fill="#888" {FONT}>no data</text></g>')
        return
    # The bars widen the axis by at most 3x beyond the medians, so one round slowed by the
    # machine's load cannot squash the lines; a bar that goes further is cut at the frame.
    yticks = nice_ticks(max(min(values), min(medians) / 3), min(max(values), max(medians) * 3))
    ylo, yhi = math.log10(yticks[0]), math.log10(yticks[-1])
    xlo, xhi = math.log10(xs[0]), math.log10(xs[-1])
    pad = 0.06 * (xhi - xlo or 1)

    def px(x):
        return x0 + (math.log10(x) - xlo + pad) / (xhi - xlo + 2 * pad) * (x1 - x0)

    def py(y):
        return y0 - (math.log10(y) - ylo) / ((yhi - ylo) or 1) * (y0 - y1)

    for t in yticks:
        y = py(t)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#e6e6e6"/>')
        out.append(f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end" font-size="10.5" '
                   f'{FONT}>{label(t)}</text>')
    for x in xs:
        out.append(f'<line x1="{px(x):.1f}" y1="{y1}" x2="{px(x):.1f}" y2="{y0}" stroke="#e6e6e6"/>')
        out.append(f'<text x="{px(x):.1f}" y="{y0 + 15}" text-anchor="middle" font-size="10.5" '
                   f'{FONT}>{label(x)}</text>')
    out.append(f'<path d="M{x0},{y1}V{y0}H{x1}" fill="none" stroke="#444"/>')
    xname = "N (log)" if axis == "n" else "connections (log)"
    out.append(f'<text x="{(x0 + x1) / 2}" y="{PANEL_H - 8}" text-anchor="middle" font-size="11" '
               f'fill="#333" {FONT}>{xname}</text>')
    out.append(f'<text transform="translate(14,{(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" '
               f'font-size="11" fill="#333" {FONT}>{escape(unit)} (log)</text>')
    if left_out:
        out.append(f'<text x="{x1 - 4}" y="{y1 + 12}" text-anchor="end" font-size="10" fill="#a00" '
                   f'{FONT}>not drawn, median ≤ 0: {escape("; ".join(left_out))}</text>')
    for peer, points in series:
        colour, kind = style[peer]
        width = 2.6 if peer == "evloop" else 1.6
        path = "".join(f'{"M" if i == 0 else "L"}{px(p[0]):.1f},{py(p[1]):.1f}' for i, p in enumerate(points))
        out.append(f'<g class="series" data-peer="{escape(peer)}" data-points="{len(points)}">')
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
                   f'stroke-linejoin="round"/>')
        for x, _, low, high in points:
            low, high = max(low, yticks[0]), min(high, yticks[-1])
            if 0 < low < high:
                out.append(f'<line x1="{px(x):.1f}" y1="{py(low):.1f}" x2="{px(x):.1f}" '
                           f'y2="{py(high):.1f}" stroke="{colour}" stroke-width="1.2" opacity="0.6"/>')
        out.extend(marker(kind, px(x), py(v), colour) for x, v, _, _ in points)
        out.append('</g>')
    out.append('</g>')


def check(svg_path, png_path):
    """Raises AssertionError unless the picture is what `main` should have drawn."""
    import os
    import xml.etree.ElementTree as ET
    sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    from check_timelines import check_png

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(svg_path).getroot()
    panels = [g for g in root.iter(ns + "g") if g.get("class") == "panel"]
    names = [g.get("data-name") for g in panels]
    assert len(panels) == int(root.get("data-panels")) and names, f"{svg_path}: panels {names}"
    assert set(names) <= {name for name, _ in PANELS}, f"{svg_path}: unexpected panels {names}"
    for g in panels:
        lines = {s.get("data-peer"): int(s.get("data-points"))
                 for s in g.iter(ns + "g") if s.get("class") == "series"}
        long_enough = [p for p, n in lines.items() if n >= 2]
        assert "evloop" in lines and len(long_enough) >= 2, \
            f"{svg_path}: panel {g.get('data-name')} has lines {lines}: evloop and two of 2+ points wanted"
    png = check_png(png_path)
    return f"{svg_path}: {len(panels)} panels ({', '.join(names)}); png {png}"


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        print(check(sys.argv[2], sys.argv[3]))
        return
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    data = json.load(open(sys.argv[1]))
    entries = data["sweep"]
    peers = []
    for entry in entries:
        for key in entry:
            if key not in NOT_PEERS and key not in peers:
                peers.append(key)
    # A peer left out of the sweep (the Python peers are: compare/python.rs) is null everywhere.
    peers = [p for p in peers if any(isinstance(e.get(p), (int, float)) for e in entries)]
    peers.sort(key=lambda p: p != "evloop")  # evloop first (a stable sort keeps the rest's order)
    style = {p: (COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]) for i, p in enumerate(peers)}
    drawn = [(title, [e for e in entries if e["name"] == name]) for name, title in PANELS]
    drawn = [d for d in drawn if d[1]]
    rows_of_panels = math.ceil(len(drawn) / COLUMNS)
    width = 2 * MARGIN + COLUMNS * PANEL_W + (COLUMNS - 1) * 10
    height = HEADER + rows_of_panels * (PANEL_H + 10) + MARGIN

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" data-panels="{len(drawn)}">',
           f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
           f'<text x="{MARGIN}" y="24" font-size="16" font-weight="bold" {FONT}>'
           'Cost per operation against N, every runtime (both axes log; lower is better)</text>']
    notes = [f'median of {data.get("reps", "?")} interleaved rounds per point, bars from the fastest '
             f'to the slowest round (cut at the frame)', data.get("machine", "machine not recorded")]
    if "load" in data:
        notes[1] += f'; load average {data["load"]}'
    for i, note in enumerate(notes):
        out.append(f'<text x="{MARGIN}" y="{42 + 14 * i}" font-size="11" fill="#555" {FONT}>'
                   f'{escape(note)}</text>')
    x = MARGIN
    for peer in peers:
        colour, kind = style[peer]
        out.append(f'<g class="legend" data-peer="{escape(peer)}">')
        out.append(f'<line x1="{x}" y1="77" x2="{x + 26}" y2="77" stroke="{colour}" '
                   f'stroke-width="{2.6 if peer == "evloop" else 1.6}"/>')
        out.append(marker(kind, x + 13, 77, colour))
        out.append(f'<text x="{x + 32}" y="81" font-size="12" {FONT}>{escape(peer)}</text></g>')
        x += 32 + 7 * len(peer) + 26
    for i, (title, rows) in enumerate(drawn):
        left = MARGIN + (i % COLUMNS) * (PANEL_W + 10)
        top = HEADER + (i // COLUMNS) * (PANEL_H + 10)
        panel(out, left, top, title, rows, peers, style)
    out.append('</svg>')
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
