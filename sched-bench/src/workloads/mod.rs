//! The workload catalogue: what each row of the report measures, in which
//! unit, at which size, and which runtimes can run it.
//!
//! Owns: [`Kind`] (the eleven workloads), [`Row`] (a workload at a given
//! `maxprocs`; yield and ping-pong appear twice, at 1 and at 2), and
//! [`plan`], the single place that decides whether a runtime runs a row
//! and at what size — or why it does not (a million OS threads, an API that
//! weft does not have yet). The implementations live beside it, one module
//! per runtime: [`weft`], [`tokio`], [`threads`]; Go's are in
//! `sched-bench/go/main.go`.
//!
//! Every implementation returns the row's figure directly in the row's unit
//! (ns per op, ms for a whole run, KB per goroutine), so the report never
//! converts. Must never: fake a number. A row a runtime cannot run yet
//! is a [`Plan::Skip`] with the reason printed in its cell.

pub mod threads;
pub mod tokio;
pub mod weft;

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use crate::runners::Runtime;

/// Goroutines in the token ring.
pub const RING_SIZE: usize = 10_000;

/// Goroutines contending for the mutex.
pub const MUTEX_GOROUTINES: usize = 8;

/// Capacity of the channel in the buffered-throughput workload.
pub const BUFFERED_CAP: usize = 128;

/// The workloads, each implemented for every runtime (and in Go).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Spawn N goroutines that do nothing, wait for all; ns per goroutine.
    Spawn,
    /// Two goroutines each yield N times; ns per switch.
    Yield,
    /// N round trips over two unbuffered channels; ns per round trip.
    PingPong,
    /// One producer, one consumer, N messages through a channel of capacity
    /// [`BUFFERED_CAP`]; ns per message.
    Buffered,
    /// Four producers on unbuffered channels, one consumer
    /// selecting over them; ns per message.
    Select,
    /// The skynet tree: N leaves (a power of ten), fan-out 10; ms.
    Skynet,
    /// A token passed N hops around a ring of [`RING_SIZE`] goroutines
    /// joined by unbuffered channels; ns per hop.
    Ring,
    /// fib(N) spawning a goroutine for every call above the leaves and
    /// joining it; ns per spawn.
    Fib,
    /// N goroutines parked at once; KB of resident memory each.
    Memory,
    /// [`MUTEX_GOROUTINES`] goroutines share N lock/unlock pairs; ns per lock.
    Mutex,
    /// N goroutines each sleep 1–2 ms (spread evenly); ms until all woke.
    Timers,
}

impl Kind {
    /// Every workload, in report order.
    pub const ALL: [Kind; 11] = [
        Kind::Spawn,
        Kind::Yield,
        Kind::PingPong,
        Kind::Buffered,
        Kind::Select,
        Kind::Skynet,
        Kind::Ring,
        Kind::Fib,
        Kind::Memory,
        Kind::Mutex,
        Kind::Timers,
    ];

    /// The name used on the command line, in JSON and by the Go program.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Spawn => "spawn",
            Kind::Yield => "yield",
            Kind::PingPong => "pingpong",
            Kind::Buffered => "buffered",
            Kind::Select => "select",
            Kind::Skynet => "skynet",
            Kind::Ring => "ring",
            Kind::Fib => "fib",
            Kind::Memory => "memory",
            Kind::Mutex => "mutex",
            Kind::Timers => "timers",
        }
    }

    /// The unit of the figure every implementation returns.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Spawn => "ns/goroutine",
            Kind::Yield => "ns/switch",
            Kind::PingPong => "ns/round trip",
            Kind::Buffered | Kind::Select => "ns/message",
            Kind::Skynet | Kind::Timers => "ms",
            Kind::Ring => "ns/hop",
            Kind::Fib => "ns/spawn",
            Kind::Memory => "KB/goroutine",
            Kind::Mutex => "ns/lock",
        }
    }

    /// How many runs a cell of this workload takes, given the report's
    /// default: memory once (RSS per goroutine does not vary between runs,
    /// and a million parked goroutines take seconds to set up).
    pub fn runs(self, default: usize) -> usize {
        match self {
            Kind::Memory => 1,
            _ => default,
        }
    }

    /// What the size argument counts.
    pub fn size_meaning(self) -> &'static str {
        match self {
            Kind::Spawn | Kind::Memory => "goroutines",
            Kind::Yield => "yields per goroutine",
            Kind::PingPong => "round trips",
            Kind::Buffered | Kind::Select => "messages",
            Kind::Skynet => "leaves",
            Kind::Ring => "hops",
            Kind::Fib => "n of fib(n)",
            Kind::Mutex => "locks",
            Kind::Timers => "timers",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown workload `{s}`"))
    }
}

/// One row of the report: a workload, at a fixed `maxprocs` or at the
/// machine's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The workload.
    pub kind: Kind,
    /// `Some(n)`: run at maxprocs `n` (GOMAXPROCS, tokio workers, CPUs the
    /// threads are pinned to). `None`: the report's default maxprocs.
    pub procs: Option<usize>,
}

impl Row {
    /// The rows of the report, in order.
    pub fn all() -> Vec<Row> {
        let mut rows = Vec::new();
        for kind in Kind::ALL {
            match kind {
                Kind::Yield | Kind::PingPong => {
                    rows.push(Row {
                        kind,
                        procs: Some(1),
                    });
                    rows.push(Row {
                        kind,
                        procs: Some(2),
                    });
                }
                _ => rows.push(Row { kind, procs: None }),
            }
        }
        rows
    }

    /// The row's id: the workload's name, with `-p1`/`-p2` for a fixed
    /// maxprocs. `--only` accepts it, or the bare workload name.
    pub fn id(&self) -> String {
        match self.procs {
            Some(p) => format!("{}-p{p}", self.kind.name()),
            None => self.kind.name().to_string(),
        }
    }

    /// A human title for the table.
    pub fn title(&self) -> String {
        let base = match self.kind {
            Kind::Spawn => "spawn to completion",
            Kind::Yield => "yield between 2 goroutines",
            Kind::PingPong => "unbuffered ping-pong",
            Kind::Buffered => "buffered chan throughput (cap 128)",
            Kind::Select => "select over 4 channels",
            Kind::Skynet => "skynet",
            Kind::Ring => "token ring, 10k goroutines",
            Kind::Fib => "fork-join fib (spawn+join)",
            Kind::Memory => "memory per parked goroutine",
            Kind::Mutex => "mutex, 8 goroutines",
            Kind::Timers => "timer storm",
        };
        match self.procs {
            Some(p) => format!("{base} @{p}P"),
            None => base.to_string(),
        }
    }

    /// GUIDE §5's goal for weft on this row, if it has one.
    pub fn goal(&self) -> Option<Goal> {
        match self.kind {
            Kind::Spawn | Kind::Yield | Kind::PingPong | Kind::Skynet => Some(Goal::RatioToGo(0.6)),
            Kind::Ring => Some(Goal::RatioToGo(1.0)),
            Kind::Memory => Some(Goal::AtMost(4.6)),
            _ => None,
        }
    }
}

/// A target weft must reach on a row (GUIDE §5).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// weft's figure at most this multiple of Go's.
    RatioToGo(f64),
    /// weft's figure at most this, in the row's unit.
    AtMost(f64),
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::RatioToGo(r) if *r == 1.0 => write!(f, "≤ Go"),
            Goal::RatioToGo(r) => write!(f, "≤ {r}× Go"),
            Goal::AtMost(v) => write!(f, "≤ {v}"),
        }
    }
}

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The default report: sizes that show steady-state costs (1M where
    /// GUIDE §5 says 1M).
    Full,
    /// `--quick`: small sizes, seconds for the whole report.
    Quick,
}

/// Whether and how a runtime runs a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Run at this size; `note` explains a size that differs from the
    /// goroutine runtimes' (e.g. "10k threads").
    Run {
        /// The size argument passed to the workload.
        size: u64,
        /// Shown in the cell beside the figure.
        note: Option<String>,
    },
    /// Not run (not applicable), and why.
    Skip {
        /// Printed in the cell.
        reason: String,
    },
}

fn pick(scale: Scale, full: u64, quick: u64) -> u64 {
    match scale {
        Scale::Full => full,
        Scale::Quick => quick,
    }
}

/// The size of a row for goroutine runtimes (weft, Go, tokio).
pub fn goroutine_size(kind: Kind, scale: Scale) -> u64 {
    match kind {
        Kind::Spawn => pick(scale, 1_000_000, 20_000),
        Kind::Yield => pick(scale, 1_000_000, 20_000),
        Kind::PingPong => pick(scale, 500_000, 20_000),
        Kind::Buffered => pick(scale, 5_000_000, 50_000),
        Kind::Select => pick(scale, 500_000, 20_000),
        Kind::Skynet => pick(scale, 1_000_000, 10_000),
        Kind::Ring => pick(scale, 500_000, 20_000),
        Kind::Fib => pick(scale, 27, 16),
        Kind::Memory => pick(scale, 1_000_000, 10_000),
        Kind::Mutex => pick(scale, 10_000_000, 100_000),
        Kind::Timers => pick(scale, 1_000_000, 10_000),
    }
}

/// Whether and at which size `rt` runs `row`.
pub fn plan(rt: Runtime, row: Row, scale: Scale) -> Plan {
    let size = goroutine_size(row.kind, scale);
    let run = |size: u64, note: Option<&str>| Plan::Run {
        size,
        note: note.map(str::to_string),
    };
    let na = |reason: &str| Plan::Skip {
        reason: reason.to_string(),
    };
    match rt {
        Runtime::WeftContinuation | Runtime::WeftChild | Runtime::Go | Runtime::Tokio => {
            run(size, None)
        }
        Runtime::Threads => match row.kind {
            Kind::Spawn => run(pick(scale, 5_000, 1_000), Some("5k threads")),
            Kind::Yield if row.procs == Some(1) => run(
                pick(scale, 100_000, 10_000),
                Some("sched_yield, pinned to 1 CPU"),
            ),
            Kind::Yield => na("n/a: two threads on two CPUs never switch"),
            Kind::PingPong => run(pick(scale, 20_000, 2_000), Some("sync_channel(0)")),
            Kind::Buffered => run(
                pick(scale, 1_000_000, 50_000),
                Some("crossbeam bounded(128)"),
            ),
            Kind::Select => run(pick(scale, 40_000, 4_000), Some("crossbeam select")),
            Kind::Skynet => na("n/a: 1.1M OS threads"),
            Kind::Ring => run(pick(scale, 10_000, 2_000), Some("10k threads")),
            Kind::Fib => run(pick(scale, 15, 10), Some("fib(15)")),
            Kind::Memory => run(
                pick(scale, 10_000, 1_000),
                Some("10k threads, 64 KB stacks"),
            ),
            Kind::Mutex => run(size, Some("std Mutex")),
            Kind::Timers => na("n/a: a million OS threads"),
        },
    }
}

/// The number of spawns fib(n) makes when every call above the leaves
/// spawns one child: S(n) = 1 + S(n-1) + S(n-2), S(0) = S(1) = 0.
pub fn fib_spawns(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 0u64); // S(i-2), S(i-1)
    for _ in 2..=n {
        let c = 1 + a + b;
        a = b;
        b = c;
    }
    if n < 2 {
        0
    } else {
        b
    }
}

/// Plain fib, to check the parallel versions.
pub fn fib_serial(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let c = a + b;
        a = b;
        b = c;
    }
    a
}

/// Nanoseconds since `start`, per operation.
pub fn ns_per(start: Instant, ops: u64) -> f64 {
    start.elapsed().as_nanos() as f64 / ops.max(1) as f64
}

/// Milliseconds since `start`.
pub fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// The process's resident set size in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always valid.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(4096) as u64
}

/// The delay of the `i`th timer in the timer storm: 1 ms plus `i mod 1000`
/// µs, so timers fire spread over a millisecond, as in the Go program.
pub fn timer_delay(i: u64) -> std::time::Duration {
    std::time::Duration::from_micros(1000 + i % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_spawn_count() {
        assert_eq!(fib_spawns(0), 0);
        assert_eq!(fib_spawns(2), 1);
        assert_eq!(fib_spawns(4), 4); // 4 -> (3 -> 2), 2
        assert_eq!(fib_serial(10), 55);
    }

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.name().parse::<Kind>(), Ok(k));
        }
        assert_eq!(Row::all().len(), 13);
    }
}
