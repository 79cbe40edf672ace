#!/usr/bin/env python3
"""Draws the ratios to Go of every system as an SVG bar chart.

Usage: python3 benchmarks/chart.py RAW_FILE OUT.svg

One group of horizontal bars per workload row of report.py's table (workload, size, metric),
one bar per system that ran it: its median divided by Go's median, on a logarithmic axis
centred on 1 (Go). A bar left of the line is ahead of Go. Standard library only; it reuses
report.py's parsing.
"""

import math
import os
import sys
from xml.sax.saxutils import escape

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

COLORS = {
    "goro": "#d9480f",
    "crossbeam": "#1971c2",
    "tokio": "#2f9e44",
    "flume": "#ae3ec9",
    "kanal": "#f08c00",
    "may": "#495057",
}
BAR, GAP, LEFT, RIGHT, TOP = 11, 9, 230, 70, 60


def chart(table):
    rows = report.ratios(table)
    systems = [s for s in report.systems_of(table) if s != "go"]
    values = [v for _, _, r in rows for v in r.values() if v > 0]
    if not values:
        sys.exit("chart.py: no system ran next to Go")
    lo = 2.0 ** math.floor(math.log2(min(min(values), 0.5)))
    hi = 2.0 ** math.ceil(math.log2(max(max(values), 2.0)))
    width = 900
    plot = width - LEFT - RIGHT

    def x(v):
        return LEFT + plot * (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo))

    heights = [max(len(r), 1) * BAR + GAP for _, _, r in rows]
    height = TOP + sum(heights) + 40
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">'
        "Median / Go median, per workload (log scale; left of 1 = ahead of Go)</text>",
    ]
    # Legend.
    lx = LEFT
    for s in systems:
        svg.append(f'<rect x="{lx}" y="28" width="10" height="10" fill="{COLORS.get(s, "#868e96")}"/>')
        svg.append(f'<text x="{lx + 14}" y="37">{escape(s)}</text>')
        lx += 14 + 8 * len(s) + 16
    # Grid at powers of two.
    bottom = TOP + sum(heights)
    v = lo
    while v <= hi * 1.0001:
        gx = x(v)
        stroke = "#000" if v == 1 else "#ddd"
        svg.append(f'<line x1="{gx:.1f}" y1="{TOP - 6}" x2="{gx:.1f}" y2="{bottom}" stroke="{stroke}"/>')
        text = f"{v:g}" if v >= 1 else f"1/{1 / v:g}"
        svg.append(f'<text x="{gx:.1f}" y="{bottom + 14}" text-anchor="middle">{text}</text>')
        v *= 2
    y = TOP
    for (lab, unit, r), h in zip(rows, heights):
        svg.append(f'<text x="{LEFT - 8}" y="{y + 10}" text-anchor="end">{escape(lab)} ({escape(unit)})</text>')
        by = y
        for s in systems:
            if s not in r:
                continue
            v = r[s]
            x0, x1 = sorted((x(1), x(min(max(v, lo), hi))))
            color = COLORS.get(s, "#868e96")
            svg.append(f'<rect x="{x0:.1f}" y="{by}" width="{max(x1 - x0, 1):.1f}" '
                       f'height="{BAR - 2}" fill="{color}"><title>{escape(s)}: {v:.2f}</title></rect>')
            tx = x1 + 3 if v >= 1 else x0 - 3
            anchor = "start" if v >= 1 else "end"
            svg.append(f'<text x="{tx:.1f}" y="{by + BAR - 3}" font-size="9" '
                       f'text-anchor="{anchor}">{v:.2f}</text>')
            by += BAR
        y += h
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: python3 benchmarks/chart.py RAW_FILE OUT.svg")
    with open(argv[1], encoding="utf-8") as f:
        table = report.parse(f.readlines())
    if not table:
        sys.exit("chart.py: no RESULT lines")
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(chart(table))
    print(f"chart: {argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
