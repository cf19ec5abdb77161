#!/usr/bin/env python3
"""Checks the timelines scripts/render_timelines.sh rendered, with the standard library only.

  check_timelines.py size FILE.svg     prints "W,H" from the SVG's root, for --window-size
  check_timelines.py check BASE...     for each BASE: BASE.png is not blank, and BASE.svg has one
                                       row group per task, as many as its data-tasks attribute
                                       says and as BASE.json (the Chrome trace) has task tracks

The PNG is decoded by hand (zlib and the five PNG row filters), so no Pillow is needed.
"""
import json
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"


def png_pixels(path):
    """The PNG's pixels as (width, height, channels, bytes), unfiltered (8-bit RGB or RGBA)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"{path}: unexpected PNG format {header}"
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        row_start = y * (stride + 1)
        kind, row = raw[row_start], bytearray(raw[row_start + 1:row_start + 1 + stride])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += row
        prev = row
    return width, height, channels, bytes(out)


def check_png(path):
    width, height, channels, pixels = png_pixels(path)
    colours, inked = set(), 0
    for i in range(0, len(pixels), channels * 3):  # every third pixel is plenty
        rgb = pixels[i:i + 3]
        colours.add(bytes(rgb))
        inked += min(rgb) < 235
    sampled = len(pixels) // (channels * 3)
    assert inked / sampled > 0.01, f"{path}: {inked} of {sampled} sampled pixels are not white: blank?"
    assert len(colours) >= 8, f"{path}: only {len(colours)} colours: blank or broken?"
    return f"{width}x{height}, {len(colours)} colours, {100 * inked / sampled:.1f}% inked"


def check_rows(base):
    root = ET.parse(base + ".svg").getroot()
    groups = [g for g in root.iter(SVG + "g") if g.get("class") == "task"]
    said = int(root.get("data-tasks"))
    trace = json.load(open(base + ".json"))
    tracks = [e for e in trace["traceEvents"]
              if e["ph"] == "M" and e["name"] == "thread_name" and e["args"]["name"].startswith("task#")]
    assert len(groups) == said == len(tracks), \
        f"{base}: {len(groups)} task rows in the SVG, data-tasks={said}, {len(tracks)} task tracks in the trace"
    return len(groups)


def main():
    if sys.argv[1] == "size":
        root = ET.parse(sys.argv[2]).getroot()
        print(f"{round(float(root.get('width')))},{round(float(root.get('height')))}")
        return
    for base in sys.argv[2:]:
        rows = check_rows(base)
        print(f"{base}: {rows} task rows; png {check_png(base + '.png')}")


if __name__ == "__main__":
    main()
