#!/usr/bin/env python3
"""Draws a benchmark run as an SVG chart: every system against Go, and the memory rows.

Usage: python3 benchmarks/chart.py RAW_FILE OUT.svg

Two panels, one row per workload row of report.py's table (workload, size, metric):

- Time, every lower-is-better row that Go runs: one horizontal bar per system, its median
  divided by Go's median. Go is the baseline, the line at 1. The axis is logarithmic and
  centred on 1, and a bar starts at 1: a ratio and its inverse (2x faster, 2x slower) get the
  same length, and the axis is clipped at 1/8 and 8 at most so that an octave spans about a
  hundred pixels: 0.97 and 1.03 are 4-5 px long, and no bar is drawn shorter than MIN_BAR. A
  bar beyond the clip is drawn broken, with its value. goro's `Pool` rows get a second goro
  bar against Go's `workerpool2` (the article's pool), and every pool row says which Go pool
  it is held against (Go has no pool type: `benchmarks/go/main.go` writes them by hand).
- Memory (bytes per goroutine, per connection): the medians themselves, Go's included, on a
  linear axis from 0 of their own, each with its ratio to Go.

A system of the run that has no result for a row is named under the row with a short reason:
the `SKIP` line it printed (read from `stderr.log` next to RAW_FILE, shortened by SHORT), or
"no result". A row that every system skipped is drawn with its reasons only. The title carries
the run's date and machine from `machine.txt` next to RAW_FILE (CPU count, CPU model when
recorded, kernel, toolchains, run settings). The async rows (Go has no async channels) and the
network throughput and latency rows are left to table.txt. Standard library only; it reuses
report.py's parsing.
"""

import math
import os
import re
import statistics
import sys
from xml.sax.saxutils import escape

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

GO_COLOR = "#00add8"  # Go's own cyan, for its bars in the memory panel
COLORS = {
    "goro": "#d9480f",
    "goro-base": "#f4a582",
    "crossbeam": "#1971c2",
    "tokio": "#2f9e44",
    "flume": "#ae3ec9",
    "kanal": "#f08c00",
    "may": "#495057",
}
OTHER_COLOR = "#868e96"
WIDTH = 1040
LEFT = 270  # row labels
RIGHT = 150  # value labels of clipped bars
BAR = 13  # vertical pitch of one bar
NOTE = 13  # vertical pitch of one "not run" line
GAP = 9  # between rows
MIN_BAR = 6  # px: the shortest bar drawn, so a ratio of 0.99 is still seen on its side
MAX_OCTAVES = 3  # the time axis spans at most 1/8 .. 8
CHAR = 5.9  # px per character at font-size 11, to size the legend

# Metrics drawn in the memory panel.
MEMORY_METRICS = ("bytes_per_goroutine", "bytes_per_conn")
# The metric of a row that no system ran (so no RESULT line names it).
SKIPPED_ROW_METRIC = {"parked": "bytes_per_goroutine", "idle10k": "bytes_per_conn",
                      "idle100k": "bytes_per_conn"}
# What Go runs for goro's Pool rows (benchmarks/go/main.go): Go has no pool type.
GO_POOL = {
    "pool2": "vs Go's hand-written pool (jobs chan, 2 workers)",
    "pooldyn2": "vs Go's hand-written pool (jobs chan, 2 workers)",
    "poolmap2": "vs Go's hand-written ordered map (2 workers)",
}
GO_ARTICLE_POOL = "vs Go's workerpool2 (the article's pool)"

# A SKIP reason (its text, as the benchmark programs and run.sh print it) -> a short one.
# "n/a": the system has no counterpart of the workload; "skipped": this machine or run
# settings kept it from running.
SHORT = (
    (r"one std::thread per goroutine", "n/a: an OS thread per goroutine"),
    (r"the ring needs 10,000 threads", "n/a: 10,000 OS threads"),
    (r"blocking call only ever blocks its own thread", "n/a: OS threads block only themselves"),
    (r"has no mutex and no context", "n/a: a channel crate (no mutex, no context)"),
    (r"has no network I/O", "n/a: a channel crate (no network I/O)"),
    (r"measures goro::pool::Pool", "n/a: goro's Pool against Go only"),
    (r"no async", "n/a: no async channel operations"),
    (r"has no select", "n/a: no select"),
    (r"are unbounded", "n/a: unbounded channels only"),
    (r"vm\.max_map_count", "skipped: vm.max_map_count too low"),
    (r"^not ported", "not ported"),
    (r"no capacity-0", "n/a: no capacity-0 channel"),
    (r"single receiver", "n/a: mpsc has one receiver"),
    (r"blocking call inside a task", "n/a: no blocking I/O in a task"),
    (r"blocking call inside a may coroutine", "n/a: no blocking calls in a coroutine"),
    (r"RLIMIT_NOFILE", "skipped: RLIMIT_NOFILE too low"),
    (r"--quick", "left out by --quick"),
    (r"baseline predates", "n/a: the baseline predates it"),
)


def short(reason):
    for pattern, text in SHORT:
        if re.search(pattern, reason):
            return text
    # An unknown reason: its first clause.
    first = re.split(r"[;(]", reason, maxsplit=1)[0].strip()
    return first if len(first) <= 48 else first[:47] + "…"


def read_skips(path, systems):
    """{(system, workload): [(args, reason)]} from a run's stderr.log: a program's `SKIP
    <workload>: <reason>` line belongs to the `-- <system> <workload> [args]` line run.sh writes
    before each recorded run (the warm-up runs before the first such line are not headed, and
    say the same); run.sh's own lines are `SKIP <system> <workload>: <reason>`."""
    skips = {}
    if not os.path.exists(path):
        return skips
    current = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("-- "):
                current = line[3:].split()
                continue
            if not line.startswith("SKIP ") or ":" not in line:
                continue
            head, reason = line[5:].split(":", 1)
            words = head.split()
            if len(words) == 2 and words[0] in systems:
                system, args = words[0], [words[1]]
            elif len(words) == 1 and current and current[1:2] == words:
                system, args = current[0], current[1:]
            else:
                continue
            entry = (tuple(args[1:]), reason.strip())
            found = skips.setdefault((system, args[0]), [])
            if entry not in found:
                found.append(entry)
    return skips


def skip_reason(skips, system, workload, n):
    """The short reason `system` skipped the row (workload, n), or None."""
    found = skips.get((system, workload), [])
    for args, reason in found:
        if str(n) in args:
            return short(reason)
    if found:
        # A workload run without arguments, or a size the row's n is not written as.
        return short(found[0][1])
    return None


def read_machine(path):
    info = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if ":" in line:
                    k, v = line.split(":", 1)
                    info[k.strip()] = v.strip()
    return info


def machine_lines(info, run_dir, runs):
    """Two lines for the title: the date and the machine, then the toolchains and settings."""
    date = info.get("date", "")
    m = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})", date)
    if m:
        when = f"{m.group(1)} {m.group(2)}{' UTC' if date.endswith('+00:00') else ''}"
    else:
        m = re.match(r"(\d{4}-\d{2}-\d{2})-(\d{2})(\d{2})", os.path.basename(run_dir))
        when = f"{m.group(1)} {m.group(2)}:{m.group(3)}" if m else "date not recorded"
    nproc = info.get("nproc")
    cpus = f"{nproc} CPU{'s' if nproc != '1' else ''}" if nproc else "CPU count not recorded"
    model = info.get("cpu") or "CPU model not recorded"
    uname = info.get("uname", "").split()
    kernel = f"Linux {uname[2]} {uname[-2]}" if len(uname) >= 4 and uname[0] == "Linux" else ""
    first = " · ".join(p for p in (when, cpus, model, kernel) if p)
    go = re.search(r"go\d+(\.\d+)*", info.get("go", ""))
    rustc = " ".join(info.get("rustc", "").split()[:2])
    procs = info.get("GOMAXPROCS", "unset")
    procs = "all CPUs" if procs == "unset" else procs
    second = [p for p in (go.group(0) if go else "", rustc) if p]
    second.append(f"GOMAXPROCS = GORO_MAXPROCS = {procs}")
    second.append(f"median of {runs} run{'s' if runs != '1' else ''}")
    if info.get("quick") == "1":
        second.append("--quick")
    if info.get("commit"):
        second.append(f"commit {info['commit'][:10]}")
    if info.get("load"):
        second.append("load " + " ".join(info["load"].split()[:3]))
    second.append(os.path.join("results", os.path.basename(run_dir)))
    return first, " · ".join(second)


def build_rows(table, skips, systems):
    """The rows of both panels: (panel, label, sublabel, bars, notes), bars a list of
    (system, value, ratio to Go or None), notes a list of (reason, [systems])."""
    rows = []
    keys = list(table)  # first-seen order within a workload, as report.py keeps it
    # Rows no system ran, from the SKIP lines (idle100k under a low descriptor limit, say).
    for (system, workload), found in skips.items():
        if workload not in SKIPPED_ROW_METRIC:
            continue
        for args, _ in found:
            if workload == "parked" and not args:
                continue
            n = int(args[0]) if args else report.NET_WORKLOADS[workload]
            if not any(k[0] == workload and k[1] == n for k in keys):
                key = (workload, n, SKIPPED_ROW_METRIC[workload])
                if key not in keys:
                    keys.append(key)
    article = [v for (w, _, m), by in table.items()
               if w == report.ARTICLE_POOL and m == "ns_per_job" for v in by.get("go", [])]
    for key in sorted(keys, key=lambda k: report.sort_key((k, None))):
        workload, n, metric = key
        by_system = table.get(key, {})
        if workload in report.ASYNC_WORKLOADS:
            continue
        memory = metric in MEMORY_METRICS
        if workload in report.NET_WORKLOADS and not memory:
            continue
        medians = {s: statistics.median(v) for s, v in by_system.items() if v}
        go = medians.get("go")
        label = f"{report.label(workload, n)} ({report.METRIC_UNITS.get(metric, metric)})"
        notes = {}
        for s in systems:
            if s in medians or (s == "go" and not memory):
                continue
            reason = skip_reason(skips, s, workload, n) or "no result"
            notes.setdefault(reason, []).append("Go" if s == "go" else s)
        if not memory and go is None and medians:
            notes.setdefault("Go did not run it: no ratio", []).append("all")
        bars = []
        for s in systems:
            if s not in medians or (s == "go" and not memory):
                continue
            ratio = medians[s] / go if go else None
            if memory:
                bars.append((s, medians[s], ratio))
            elif ratio is not None:
                bars.append((s, medians[s], ratio))
        panel = "memory" if memory else "time"
        sub = GO_POOL.get(workload) if workload in report.POOL_VS_ARTICLE else None
        rows.append((panel, label, sub, bars, list(notes.items())))
        goros = [s for s in ("goro", "goro-base") if s in medians]
        if workload in report.POOL_VS_ARTICLE and article and goros:
            base = statistics.median(article)
            rows.append((panel, label, GO_ARTICLE_POOL,
                         [(s, medians[s], medians[s] / base) for s in goros], []))
    return rows


def fmt_ratio(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


class Svg:
    def __init__(self):
        self.out = []

    def add(self, s):
        self.out.append(s)

    def text(self, x, y, s, size=11, anchor="start", color="#000", extra=""):
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                 f'fill="{color}"{extra}>{escape(s)}</text>')

    def line(self, x1, y1, x2, y2, color, width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{color}" stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, color, title=None):
        t = f"<title>{escape(title)}</title>" if title else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                 f'fill="{color}">{t}</rect>')


def wrap(text, width):
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines


def row_height(row):
    _, _, sub, bars, notes = row
    lines = max(len(bars), 1 if not notes else 0) + len(notes)
    return max(lines * BAR, 2 * NOTE if sub else NOTE) + GAP


def draw_row_band(svg, i, y, row):
    """Row `i`'s background (every other row shaded) and labels at `y`; returns its height."""
    h = row_height(row)
    if i % 2 == 1:
        svg.add(f'<rect x="16" y="{y - 4}" width="{WIDTH - 32}" height="{h}" '
                f'fill="#000" fill-opacity="0.03"/>')
    draw_labels(svg, y, row)
    return h


def draw_labels(svg, y, row):
    _, label, sub, _, _ = row
    svg.text(LEFT - 8, y + 10, label, anchor="end")
    if sub:
        svg.text(LEFT - 8, y + 10 + NOTE, sub, size=9, anchor="end", color="#555")


def draw_notes(svg, y, notes, x0):
    for reason, names in notes:
        who = "every system" if names == ["all"] else ", ".join(names)
        # A white halo keeps the note legible where it crosses the grid and the Go line.
        svg.text(x0, y + 10, f"{who} — {reason}", size=9.5, color="#6c757d",
                 extra=' font-style="italic" stroke="white" stroke-width="3" '
                       'paint-order="stroke"')
        y += NOTE
    return y


def chart(table, skips, info, run_dir):
    systems = report.systems_of(table)
    listed = info.get("systems", "").split()
    # The systems the run asked for, those with results first in report's order.
    systems += [s for s in listed if s not in systems]
    rows = build_rows(table, skips, systems)
    time_rows = [r for r in rows if r[0] == "time"]
    mem_rows = [r for r in rows if r[0] == "memory"]
    if not any(r[3] for r in rows):
        sys.exit("chart.py: no row to draw (no system ran next to Go, no memory row)")
    runs = sorted({len(v) for by in table.values() for v in by.values()})
    first, second = machine_lines(info, run_dir, "/".join(map(str, runs)))

    plot = WIDTH - LEFT - RIGHT
    ratios = [b[2] for r in time_rows for b in r[3] if b[2]]
    octaves = max((abs(math.log2(v)) for v in ratios), default=1)
    octaves = min(max(math.ceil(octaves - 1e-9), 1), MAX_OCTAVES)
    lo, hi = 2.0 ** -octaves, 2.0 ** octaves

    def x(v):
        return LEFT + plot * (math.log2(v) + octaves) / (2 * octaves)

    svg = Svg()
    y = 22
    peers = [s for s in systems if s not in ("go", "goro", "goro-base")]
    title = "goro and the Rust peers against Go" if peers else "goro against Go"
    svg.text(16, y, title, size=16, extra=' font-weight="bold"')
    y += 18
    svg.text(16, y, first, size=11.5)
    y += 15
    svg.text(16, y, second, size=10, color="#444")
    # Legend: Go first, as the baseline.
    y += 20
    lx = 16
    if mem_rows:
        svg.rect(lx, y - 9, 10, 10, GO_COLOR)
    if time_rows:
        svg.line(lx + 16, y - 11, lx + 16, y + 3, "#000", 2)
    go_text = "Go: the baseline" + (
        " (the line at 1; its own bars under Memory)" if time_rows and mem_rows
        else " (the line at 1)" if time_rows else "")
    svg.text(lx + 22, y, go_text)
    lx += 22 + CHAR * len(go_text) + 18
    for s in systems:
        if s == "go":
            continue
        svg.rect(lx, y - 9, 10, 10, COLORS.get(s, OTHER_COLOR))
        svg.text(lx + 14, y, s)
        lx += 14 + CHAR * len(s) + 16

    if time_rows:
        y += 26
        svg.text(16, y, "Time: system median ÷ Go median (lower is better; left of the Go "
                 "line = faster than Go)", size=13, extra=' font-weight="bold"')
        y += 10
        axis_top = y
        bottom = axis_top + 8 + sum(row_height(r) for r in time_rows)
        # Grid at powers of two, the Go line on top of it and under the bars.
        for k in range(-octaves, octaves + 1):
            v = 2.0 ** k
            gx = x(v)
            if k != 0:
                svg.line(gx, axis_top, gx, bottom, "#dee2e6")
            text = f"{v:g}" if v >= 1 else f"1/{1 / v:g}"
            svg.text(gx, bottom + 14, text, anchor="middle")
        for v in (0.9, 1 / 0.9):
            svg.line(x(v), axis_top, x(v), bottom, "#e9ecef", dash="3,3")
        svg.text(x(1), bottom + 27, "Go = 1", anchor="middle", extra=' font-weight="bold"')
        svg.text(x(lo), bottom + 27, "← faster than Go", anchor="start", color="#555")
        svg.text(x(hi), bottom + 27, "slower than Go →", anchor="end", color="#555")
        svg.line(x(1), axis_top, x(1), bottom, "#000", 2)
        y = axis_top + 8
        for i, row in enumerate(time_rows):
            h = draw_row_band(svg, i, y, row)
            by = y
            for s, med, v in row[3]:
                color = COLORS.get(s, OTHER_COLOR)
                clipped = v > hi or v < lo
                end = x(min(max(v, lo), hi))
                x0, x1 = sorted((x(1), end))
                if x1 - x0 < MIN_BAR:
                    x0, x1 = (x(1) - MIN_BAR, x(1)) if v < 1 else (x(1), x(1) + MIN_BAR)
                svg.rect(x0, by, x1 - x0, BAR - 3, color,
                         title=f"{s}: {v:.3f} × Go (median {report.num(med)})")
                if clipped:
                    # A break in the bar: it goes on beyond the axis.
                    bx = x1 - 14 if v > 1 else x0 + 8
                    svg.add(f'<polygon points="{bx:.1f},{by + BAR - 1} {bx + 4:.1f},{by - 2} '
                            f'{bx + 7:.1f},{by - 2} {bx + 3:.1f},{by + BAR - 1}" fill="white"/>')
                text = fmt_ratio(v) + (" (off the axis)" if clipped else "")
                if v >= 1:
                    svg.text(x1 + 4, by + BAR - 4, text, size=9.5)
                else:
                    svg.text(x0 - 4, by + BAR - 4, text, size=9.5, anchor="end")
                by += BAR
            draw_notes(svg, by, row[4], x(lo) + 4)
            y += h
        y = bottom + 32

    if mem_rows:
        y += 26
        svg.text(16, y, "Memory: median bytes per goroutine or connection (lower is better; "
                 "× Go in brackets)", size=13, extra=' font-weight="bold"')
        y += 10
        top = max((b[1] for r in mem_rows for b in r[3]), default=1)
        step = 10 ** math.floor(math.log10(top))
        for m in (1, 2, 5, 10):
            if top / (step * m) <= 6:
                step *= m
                break
        scale_top = step * math.ceil(top / step)

        def mx(v):
            return LEFT + plot * v / scale_top

        axis_top = y
        bottom = axis_top + 8 + sum(row_height(r) for r in mem_rows)
        v = 0
        while v <= scale_top * 1.0001:
            svg.line(mx(v), axis_top, mx(v), bottom, "#dee2e6" if v else "#000", 1)
            svg.text(mx(v), bottom + 14, f"{v:,.0f}", anchor="middle")
            v += step
        svg.text(mx(scale_top / 2), bottom + 28, "bytes", anchor="middle", color="#555")
        y = axis_top + 8
        for i, row in enumerate(mem_rows):
            h = draw_row_band(svg, i, y, row)
            by = y
            for s, med, ratio in row[3]:
                color = GO_COLOR if s == "go" else COLORS.get(s, OTHER_COLOR)
                w = max(mx(med) - LEFT, MIN_BAR)
                svg.rect(LEFT, by, w, BAR - 3, color, title=f"{s}: {med:,.0f} bytes")
                name = "Go" if s == "go" else s
                text = f"{name} {med:,.0f}"
                if ratio is not None and s != "go":
                    text += f" ({fmt_ratio(ratio)} × Go)"
                svg.text(LEFT + w + 4, by + BAR - 4, text, size=9.5)
                by += BAR
            draw_notes(svg, by, row[4], LEFT + 4)
            y += h
        y = bottom + 30

    y += 14
    foot = ("Bars: each system's median over its runs; every run a fresh process, the systems "
            "taking turns. ")
    if time_rows:
        foot += (
            "Time axis: log scale centred on Go = 1, so 2× faster and 2× slower are the same "
            f"length; it is clipped at 1/{hi:g} and {hi:g} (a longer bar is broken and prints "
            f"its value), no bar is shorter than {MIN_BAR} px, dashed lines at 0.9 and 1/0.9. "
        )
    foot += (
        "n/a: the system has no counterpart of the workload; skipped: this machine's limits or "
        "the run's settings kept it out (the reasons in full: stderr.log and "
        "benchmarks/README.md). Not drawn: the async rows (Go has no async channels) and the "
        "network round trips and p99 (table.txt)."
    )
    for line in wrap(foot, int((WIDTH - 32) / 5.3)):
        svg.text(16, y, line, size=9.5, color="#444")
        y += 13
    height = int(y + 6)
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Verdana, sans-serif">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
    ]
    return "\n".join(head + svg.out + ["</svg>"]) + "\n"


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: python3 benchmarks/chart.py RAW_FILE OUT.svg")
    with open(argv[1], encoding="utf-8") as f:
        table = report.parse(f.readlines())
    if not table:
        sys.exit("chart.py: no RESULT lines")
    run_dir = os.path.dirname(os.path.abspath(argv[1]))
    info = read_machine(os.path.join(run_dir, "machine.txt"))
    systems = set(report.systems_of(table)) | set(info.get("systems", "").split())
    skips = read_skips(os.path.join(run_dir, "stderr.log"), systems | set(report.SYSTEMS))
    svg = chart(table, skips, info, run_dir)
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"chart: {argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
