#!/usr/bin/env python3
"""Turns the RESULT lines of the benchmark programs into the Go-vs-goro table, and, when the
Rust peers ran too, a table of every system's medians and one of their ratios to Go.

Usage: python3 benchmarks/report.py RAW_FILE [RAW_FILE ...]   (or RESULT lines on stdin)

A RESULT line is

    RESULT system=go workload=spawn n=1000000 metric=ns_per_goroutine value=250.727

One row per (workload, n, metric): the median and [min-max] of each system's runs, and the
ratio of the medians, goro/Go. Every metric is lower-is-better, so a ratio below 1 means goro
did better. goro's `Pool` rows are also set against Go's article pool (`workerpool2`). The peer tables have a column per system (medians; system/Go), "-" where a
system skipped the workload. The async workloads (`async_*`: channels used from tokio tasks,
which Go does not run) have a table of their own: each system's median [min-max], and goro's
ratio to kanal, tokio and flume. The network workloads (`echo*`, `idle*`: loopback TCP) have a
table of their own too: each system's median [min-max], goro/Go and goro/tokio; their
throughput rows (round trips per second) are the one metric where higher is better.
Standard library only.
"""

import statistics
import sys

SYSTEMS = ("go", "goro", "goro-base", "crossbeam", "tokio", "flume", "kanal", "may")
WORKLOAD_ORDER = (
    "spawn",
    "skynet",
    "sleeps",
    "parked",
    "pingpong0",
    "pingpong1",
    "spsc",
    "spsc1k",
    "mpmc1024",
    "mpmc0",
    "select4",
    "workerpool2",
    "workerpool8",
    "ring",
    "mutex1",
    "mutex8",
    "ctxcancel",
    "pool2",
    "pooldyn2",
    "poolmap2",
    "blocking",
    "async_spsc",
    "async_mpmc",
    "async_pingpong",
    "echo1",
    "echo100",
    "echo10k",
    "idle10k",
    "idle100k",
)
# Channels used from tokio tasks, every system on one tokio runtime; Go skips them.
ASYNC_WORKLOADS = ("async_spsc", "async_mpmc", "async_pingpong")
# The systems of the async table, and those goro's ratios are taken against.
ASYNC_SYSTEMS = ("goro", "goro-base", "tokio", "flume", "kanal")
ASYNC_PEERS = ("kanal", "tokio", "flume")
# Loopback TCP, in their own table; the connections each workload's name stands for (a run
# given another count is labelled with it).
NET_WORKLOADS = {"echo1": 1, "echo100": 100, "echo10k": 10_000, "idle10k": 10_000,
                 "idle100k": 100_000}
NET_SYSTEMS = ("go", "goro", "goro-base", "tokio", "may")
NET_PEERS = ("go", "tokio")
METRIC_UNITS = {
    "ns_per_goroutine": "ns/goroutine",
    "wall_ms": "wall ms",
    "cpu_ms": "CPU ms",
    "bytes_per_goroutine": "bytes/goroutine",
    "ns_per_roundtrip": "ns/round trip",
    "ns_per_msg": "ns/msg",
    "ns_per_job": "ns/job",
    "ns_per_hop": "ns/hop",
    "ns_per_op": "ns/op",
    "ns_per_waiter": "ns/waiter",
    "rtt_per_s": "round trips/s",
    "p99_us": "p99 µs",
    "bytes_per_conn": "bytes/conn",
}


def parse(lines):
    """{(workload, n, metric): {system: [values]}} in first-seen order."""
    table = {}
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line.startswith("RESULT "):
            continue
        fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
        try:
            key = (fields["workload"], int(fields["n"]), fields["metric"])
            system, value = fields["system"], float(fields["value"])
        except (KeyError, ValueError) as e:
            sys.exit(f"report.py: bad RESULT line {lineno}: {line!r} ({e})")
        table.setdefault(key, {}).setdefault(system, []).append(value)
    return table


def num(v):
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(values):
    if not values:
        return "-"
    return f"{num(statistics.median(values))} [{num(min(values))}–{num(max(values))}]"


def label(workload, n):
    if workload in NET_WORKLOADS:
        # The name carries the size; n is the number of connections.
        if n == NET_WORKLOADS[workload]:
            return workload
        return f"{workload} ({n:,} conns)"
    if n >= 1_000_000 and n % 1_000_000 == 0:
        size = f"{n // 1_000_000}M"
    elif n >= 1_000 and n % 1_000 == 0:
        size = f"{n // 1_000}k"
    else:
        size = str(n)
    return f"{workload} {size}"


def sort_key(item):
    (workload, n, metric), _ = item
    rank = WORKLOAD_ORDER.index(workload) if workload in WORKLOAD_ORDER else len(WORKLOAD_ORDER)
    return (rank, workload, n)


def systems_of(table):
    """The systems in the table: the known ones in SYSTEMS order, then any others."""
    seen = {s for by_system in table.values() for s in by_system}
    return [s for s in SYSTEMS if s in seen] + sorted(seen - set(SYSTEMS))


def grid(header, rows, right):
    """A markdown table; the columns in `right` right-aligned."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def fmt(r):
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        return "| " + " | ".join(parts) + " |"

    out = [fmt(header)]
    out.append("|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                              for i, w in enumerate(widths)) + "|")
    out += [fmt(r) for r in rows]
    return out


def ratios(table):
    """[(label, metric, {system: median/Go median})] per row, in table order (without the
    async rows, which Go does not run, nor the network rows, which have their own table)."""
    out = []
    for (workload, n, metric), by_system in sorted(table.items(), key=sort_key):
        if workload in ASYNC_WORKLOADS or workload in NET_WORKLOADS:
            continue
        go = by_system.get("go", [])
        r = {}
        if go and statistics.median(go) != 0:
            for s, values in by_system.items():
                if s != "go" and values:
                    r[s] = statistics.median(values) / statistics.median(go)
        out.append((label(workload, n), METRIC_UNITS.get(metric, metric), r))
    return out


def render_peers(table):
    """Medians of every system, then every system's ratio to Go."""
    systems = systems_of(table)
    rows = []
    for (workload, n, metric), by_system in sorted(table.items(), key=sort_key):
        cells = [num(statistics.median(by_system[s])) if by_system.get(s) else "-" for s in systems]
        rows.append([label(workload, n), METRIC_UNITS.get(metric, metric)] + cells)
    right = set(range(2, 2 + len(systems)))
    out = ["Medians, every system:", ""]
    out += grid(["workload", "metric"] + systems, rows, right)
    others = [s for s in systems if s != "go"]
    rows = [[lab, unit] + [f"{r[s]:.2f}" if s in r else "-" for s in others]
            for lab, unit, r in ratios(table)]
    if rows:
        out += ["", "Ratio to Go (system median / Go median; < 1 is ahead of Go; the async "
                "and network rows are in their own tables):", ""]
        out += grid(["workload", "metric"] + [f"{s}/Go" for s in others], rows,
                    set(range(2, 2 + len(others))))
    out.append("")
    out.append('"-": not run; the system does not implement the workload, or --quick left it out '
               "(see benchmarks/README.md).")
    return "\n".join(out)


def render(table):
    header = ["workload", "metric", "Go median [min–max]", "goro median [min–max]", "goro/Go"]
    rows = []
    runs = set()
    for (workload, n, metric), by_system in sorted(table.items(), key=sort_key):
        if workload in ASYNC_WORKLOADS or workload in NET_WORKLOADS:
            continue
        go, goro = by_system.get("go", []), by_system.get("goro", [])
        runs.update(len(v) for v in (go, goro) if v)
        if go and goro and statistics.median(go) != 0:
            ratio = f"{statistics.median(goro) / statistics.median(go):.2f}"
        else:
            ratio = "-"
        rows.append(
            [label(workload, n), METRIC_UNITS.get(metric, metric), cell(go), cell(goro), ratio]
        )
    if not rows:
        return None
    out = grid(header, rows, {2, 3, 4})
    n_runs = "/".join(str(r) for r in sorted(runs)) or "0"
    out.append("")
    out.append(f"{n_runs} runs per system; lower is better everywhere; goro/Go < 1 means goro is ahead.")
    return "\n".join(out)


# goro's `Pool` rows, and the Go workload they are also held against: the article's worker
# pool (a jobs and a results channel), the baseline its issue names.
POOL_VS_ARTICLE = ("pool2", "pooldyn2", "poolmap2")
ARTICLE_POOL = "workerpool2"


def render_pool_vs_article(table):
    """goro's Pool rows against Go's article pool (workerpool2), or None if either is missing."""
    article = [v for (w, _, m), by in table.items() if w == ARTICLE_POOL and m == "ns_per_job"
               for v in by.get("go", [])]
    if not article:
        return None
    base = statistics.median(article)
    rows = []
    for (workload, n, metric), by_system in sorted(table.items(), key=sort_key):
        goro = by_system.get("goro", [])
        if workload in POOL_VS_ARTICLE and metric == "ns_per_job" and goro:
            med = statistics.median(goro)
            rows.append([label(workload, n), num(med), num(base), f"{med / base:.2f}"])
    if not rows:
        return None
    out = ["goro's Pool against the article's pool in Go (workerpool2: jobs and results "
           "channels, 2 workers):", ""]
    out += grid(["workload", "goro median ns/job", "Go workerpool2 ns/job", "goro/Go"], rows,
                {1, 2, 3})
    return "\n".join(out)


def render_baseline(table):
    """goro against goro-base (an older build run in the same session), or None."""
    rows = []
    for (workload, n, metric), by_system in sorted(table.items(), key=sort_key):
        new, base = by_system.get("goro", []), by_system.get("goro-base", [])
        if not (new and base):
            continue
        b = statistics.median(base)
        ratio = f"{statistics.median(new) / b:.2f}" if b != 0 else "-"
        rows.append([label(workload, n), METRIC_UNITS.get(metric, metric), cell(base), cell(new),
                     ratio])
    if not rows:
        return None
    out = ["goro against the baseline build (--baseline), same runs:", ""]
    out += grid(["workload", "metric", "baseline median [min–max]", "goro median [min–max]",
                 "goro/baseline"], rows, {2, 3, 4})
    return "\n".join(out)


def render_async(table):
    """The async rows: each system's median [min–max], and goro's median over kanal's,
    tokio's and flume's; None if there are none."""
    keys = [k for k, _ in sorted(table.items(), key=sort_key) if k[0] in ASYNC_WORKLOADS]
    if not keys:
        return None
    seen = {s for k in keys for s in table[k]}
    systems = [s for s in ASYNC_SYSTEMS if s in seen]
    peers = [p for p in ASYNC_PEERS if p in seen]
    rows = []
    for key in keys:
        workload, n, metric = key
        by_system = table[key]
        goro = by_system.get("goro", [])
        r = []
        for p in peers:
            peer = by_system.get(p, [])
            if goro and peer and statistics.median(peer) != 0:
                r.append(f"{statistics.median(goro) / statistics.median(peer):.2f}")
            else:
                r.append("-")
        rows.append([label(workload, n), METRIC_UNITS.get(metric, metric)]
                    + [cell(by_system.get(s, [])) for s in systems] + r)
    header = (["workload", "metric"] + [f"{s} median [min–max]" for s in systems]
              + [f"goro/{p}" for p in peers])
    out = ["Async channels, every system's tasks on one tokio runtime (Go and the peers "
           "without async operations skip them):", ""]
    out += grid(header, rows, set(range(2, len(header))))
    out.append("")
    out.append('goro/<peer> < 1 means goro is ahead; "-": the peer skipped the workload '
               "(tokio's mpsc has one receiver: no async_mpmc).")
    return "\n".join(out)


def render_net(table):
    """The network rows: each system's median [min–max], then goro's median over Go's and
    tokio's; None if there are none."""
    keys = [k for k, _ in sorted(table.items(), key=sort_key) if k[0] in NET_WORKLOADS]
    if not keys:
        return None
    seen = {s for k in keys for s in table[k]}
    systems = [s for s in NET_SYSTEMS if s in seen]
    peers = [p for p in NET_PEERS if p in seen]
    rows = []
    for key in keys:
        workload, n, metric = key
        by_system = table[key]
        goro = by_system.get("goro", [])
        r = []
        for p in peers:
            peer = by_system.get(p, [])
            if goro and peer and statistics.median(peer) != 0:
                r.append(f"{statistics.median(goro) / statistics.median(peer):.2f}")
            else:
                r.append("-")
        rows.append([label(workload, n), METRIC_UNITS.get(metric, metric)]
                    + [cell(by_system.get(s, [])) for s in systems] + r)
    header = (["workload", "metric"] + [f"{s} median [min–max]" for s in systems]
              + [f"goro/{'Go' if p == 'go' else p}" for p in peers])
    out = ["Network, loopback TCP (server and clients in one process):", ""]
    out += grid(header, rows, set(range(2, len(header))))
    out.append("")
    out.append("round trips/s: higher is better, goro/<peer> > 1 means goro is ahead; p99 µs and "
               "bytes/conn: lower is better, goro/<peer> < 1 means goro is ahead; \"-\": skipped "
               "(see stderr.log: the descriptor limit, or a peer without network I/O).")
    return "\n".join(out)


def main(argv):
    if len(argv) > 1:
        lines = []
        for path in argv[1:]:
            with open(path, encoding="utf-8") as f:
                lines += f.readlines()
    else:
        lines = sys.stdin.readlines()
    table = parse(lines)
    if not table:
        sys.exit("report.py: no RESULT lines")
    main_table = render(table)
    if main_table:
        print(main_table)
    pools = render_pool_vs_article(table)
    if pools:
        print()
        print(pools)
    base = render_baseline(table)
    if base:
        print()
        print(base)
    sections = [render_async(table), render_net(table)]
    for section in sections:
        if section:
            if main_table:
                print()
            print(section)
            main_table = True
    if any(s not in ("go", "goro", "goro-base") for s in systems_of(table)):
        print()
        print(render_peers(table))


if __name__ == "__main__":
    main(sys.argv)
