//! What the network workloads (`echo1`, `echo100`, `echo10k`, `idle10k`, `idle100k`) share
//! across the systems that run them (goro, tokio, may; Go has the same in `go/main.go`):
//! their sizes, the command line, the file-descriptor limit, the messages and their check,
//! and the latency percentile.
//!
//! Everything runs over loopback inside one process: the server (a goroutine, task or
//! coroutine per accepted connection) and the clients share the runtime. Each connection
//! takes two descriptors (the client's socket and the server's), so a workload of `N`
//! connections needs `RLIMIT_NOFILE` of at least `2N + 100`; [`prepare`] raises the soft
//! limit to the hard one and skips the workload when even the hard limit is too low.

use std::time::Duration;

use crate::{fail, report_as, skip};

/// Bytes of one echo request (and of its reply).
pub const MSG_LEN: usize = 64;
/// The buffer an echo server reads into (and an idle one blocks in).
pub const SERVER_BUF: usize = 512;
/// Descriptors a workload keeps beyond two per connection (standard streams, the
/// listener, the runtime's epoll instance and wakers, `/proc` reads).
pub const FD_SPARE: u64 = 100;

/// The network workloads, as `run.sh` names them.
pub const NET_WORKLOADS: [&str; 5] = ["echo1", "echo100", "echo10k", "idle10k", "idle100k"];

/// One network workload and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// An echo server and `conns` clients, each making `trips` round trips of a
    /// [`MSG_LEN`]-byte message.
    Echo {
        /// The workload's name.
        name: &'static str,
        /// Client connections.
        conns: usize,
        /// Round trips per connection.
        trips: usize,
    },
    /// `conns` idle connections, both ends parked in a read.
    Idle {
        /// The workload's name.
        name: &'static str,
        /// Connections.
        conns: usize,
    },
}

impl Net {
    /// The workload's name.
    pub fn name(&self) -> &'static str {
        match *self {
            Net::Echo { name, .. } | Net::Idle { name, .. } => name,
        }
    }

    /// Its connections.
    pub fn conns(&self) -> usize {
        match *self {
            Net::Echo { conns, .. } | Net::Idle { conns, .. } => conns,
        }
    }
}

/// The workload named `name` at its nominal size, or `None` if `name` is no network
/// workload.
pub fn nominal(name: &str) -> Option<Net> {
    Some(match name {
        // One connection: each round trip wakes the server and the client in turn.
        "echo1" => Net::Echo {
            name: "echo1",
            conns: 1,
            trips: 50_000,
        },
        "echo100" => Net::Echo {
            name: "echo100",
            conns: 100,
            trips: 1_000,
        },
        // 10,000 connections started at once: a few round trips each, 50,000 in all.
        "echo10k" => Net::Echo {
            name: "echo10k",
            conns: 10_000,
            trips: 5,
        },
        "idle10k" => Net::Idle {
            name: "idle10k",
            conns: 10_000,
        },
        "idle100k" => Net::Idle {
            name: "idle100k",
            conns: 100_000,
        },
        _ => return None,
    })
}

/// Parses a network workload's command line, `<name> [CONNS]` (`CONNS` replaces the
/// nominal number of connections, for a machine whose descriptor limit is below the
/// nominal size's; the round trips per connection stay). `None` if `args` names no network
/// workload; exits 2 on a bad count.
pub fn parse(args: &[&str], usage: &str) -> Option<Net> {
    let (name, conns) = match *args {
        [name] => (name, None),
        [name, n] => (name, Some(n)),
        _ => return None,
    };
    let mut w = nominal(name)?;
    if let Some(n) = conns {
        let n: usize = match n.parse() {
            Ok(n) if n > 0 => n,
            _ => fail(usage),
        };
        match &mut w {
            Net::Echo { conns, .. } | Net::Idle { conns, .. } => *conns = n,
        }
    }
    Some(w)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the limit now in force
/// (Go has done the same at start-up since 1.19).
pub fn raise_nofile() -> u64 {
    // SAFETY: an all-zero `rlimit` is a valid value of this plain C struct.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `lim` is a valid, writable `struct rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        fail(&format!(
            "getrlimit(RLIMIT_NOFILE): {}",
            std::io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid `struct rlimit`; raising the soft limit up to the hard
        // one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            fail(&format!(
                "setrlimit(RLIMIT_NOFILE): {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    lim.rlim_cur as u64
}

/// Before a network workload starts its runtime: raises the descriptor limit, and prints
/// `SKIP` and exits 0 if `2 × connections + FD_SPARE` descriptors do not fit under the
/// hard limit.
pub fn prepare(w: &Net) {
    let limit = raise_nofile();
    let need = 2 * w.conns() as u64 + FD_SPARE;
    if limit < need {
        skip(
            w.name(),
            &format!(
                "RLIMIT_NOFILE hard limit {limit} is below the {need} descriptors of {} \
                 connections (two sockets each, plus {FD_SPARE}); raise it (ulimit -Hn) \
                 or give a smaller count ({} CONNS)",
                w.conns(),
                w.name()
            ),
        );
    }
}

/// Request `trip` of connection `conn`: the two numbers in its first sixteen bytes
/// (little-endian), then a byte pattern that depends on both.
pub fn fill_msg(msg: &mut [u8; MSG_LEN], conn: usize, trip: usize) {
    msg[..8].copy_from_slice(&(conn as u64).to_le_bytes());
    msg[8..16].copy_from_slice(&(trip as u64).to_le_bytes());
    for (i, b) in msg[16..].iter_mut().enumerate() {
        *b = (conn + trip + i) as u8;
    }
}

/// Exits 2 unless `got` is the request `sent` that it answers.
pub fn check_echo(name: &str, sent: &[u8; MSG_LEN], got: &[u8; MSG_LEN]) {
    if sent != got {
        fail(&format!(
            "{name}: echoed bytes differ from the request: sent {sent:?}, got {got:?}"
        ));
    }
}

/// The nearest-rank 99th percentile of `samples` (sorted in place), in microseconds.
pub fn p99_us(samples: &mut [u64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let rank = (samples.len() * 99).div_ceil(100);
    samples[rank - 1] as f64 / 1e3
}

/// Prints an echo workload's two lines: round trips per second over `elapsed` (from the
/// start signal until every client is done), and the 99th percentile of the round trips'
/// latencies (`lat_ns`, one per round trip). `n=` is the number of connections. Exits 2
/// unless there is one latency per round trip.
pub fn report_echo(system: &str, w: &Net, elapsed: Duration, lat_ns: &mut [u64]) {
    let Net::Echo { name, conns, trips } = *w else {
        unreachable!("report_echo on {w:?}")
    };
    let total = conns * trips;
    if lat_ns.len() != total {
        fail(&format!(
            "{name}: {} round trips measured, want {total}",
            lat_ns.len()
        ));
    }
    let n = conns as u64;
    report_as(
        system,
        name,
        n,
        "rtt_per_s",
        total as f64 / elapsed.as_secs_f64(),
    );
    report_as(system, name, n, "p99_us", p99_us(lat_ns));
}

/// Prints an idle workload's line: resident bytes per connection, `(rss1 - rss0) / conns`.
pub fn report_idle(system: &str, w: &Net, rss0: u64, rss1: u64) {
    let n = w.conns();
    report_as(
        system,
        w.name(),
        n as u64,
        "bytes_per_conn",
        (rss1 as f64 - rss0 as f64) / n as f64,
    );
}

/// Why the channel crates on OS threads skip the network workloads.
pub const NOT_NET_SKIP: &str = "a channel crate: it has no network I/O (std::net on one OS \
                                thread per connection would measure the kernel's threads)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(p99_us(&mut v), 99.0);
        let mut v: Vec<u64> = (1..=1000).rev().map(|i| i * 1000).collect();
        assert_eq!(p99_us(&mut v), 990.0);
        assert_eq!(p99_us(&mut [7000]), 7.0);
    }

    #[test]
    fn parse_takes_an_optional_count() {
        assert_eq!(parse(&["idle10k"], "u").map(|w| w.conns()), Some(10_000));
        assert_eq!(
            parse(&["echo10k", "900"], "u").map(|w| w.conns()),
            Some(900)
        );
        assert_eq!(parse(&["spawn"], "u"), None);
    }

    #[test]
    fn messages_differ_by_connection_and_trip() {
        let (mut a, mut b) = ([0; MSG_LEN], [0; MSG_LEN]);
        fill_msg(&mut a, 3, 7);
        fill_msg(&mut b, 3, 8);
        assert_ne!(a, b);
        fill_msg(&mut b, 7, 3);
        assert_ne!(a, b);
    }
}
