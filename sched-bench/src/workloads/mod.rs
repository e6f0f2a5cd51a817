//! The workload catalogue: what each row of the report measures, in which
//! unit, at which size, which program each runtime runs, and which
//! runtimes can run it.
//!
//! Owns: [`Kind`] (the fifteen workloads), [`Row`] (a workload at a given
//! `maxprocs` or size; yield and ping-pong appear twice, at 1 and at 2, the
//! TCP echo three times, at 100, 1,000 and 10,000 connections, each with
//! three [`Metric`] rows derived from the same runs), the goals
//! (issue 14's table), [`Programs`] (what each runtime runs, printed in the
//! report) and [`plan`], the single place that decides whether a runtime
//! runs a row and at what size — or why it does not (a million OS
//! threads). The implementations live beside it, one module per runtime:
//! [`weft`], [`tokio`], [`threads`]; Go's are in `sched-bench/go/main.go`.
//!
//! A row runs the same program on every runtime, written as Go writes it:
//! channels where Go's program uses channels, a WaitGroup where it uses a
//! WaitGroup. Where a weft program joins handles instead, that is its own
//! row, labelled "(spawn+join)", and Go's side of it is Go's future idiom
//! (a channel of capacity 1 per goroutine, received once).
//!
//! Every implementation returns the row's figure directly in the row's unit
//! (ns per op, ms for a whole run, KB per goroutine), so the report never
//! converts. Must never: fake a number, or compare different programs
//! under one row. A row a runtime cannot run is a [`Plan::Skip`] with the
//! reason printed in its cell.

pub mod echo;
pub mod threads;
pub mod tokio;
pub mod weft;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::runners::Runtime;

/// Goroutines in the token ring.
pub const RING_SIZE: usize = 10_000;

/// Goroutines contending for the mutex.
pub const MUTEX_GOROUTINES: usize = 8;

/// Capacity of the channel in the buffered-throughput workload.
pub const BUFFERED_CAP: usize = 128;

/// Round trips each echo connection makes.
pub const ECHO_ROUNDS: usize = 100;
/// Bytes per echo message.
pub const ECHO_MSG: usize = 64;
/// Connections of the three echo rows.
pub const ECHO_CONNS: [u64; 3] = [100, 1_000, 10_000];
/// The echo server's listen backlog on every runtime: Linux's default
/// `net.core.somaxconn`, which Go and weft ask for (the kernel clamps it).
pub const SOMAXCONN: u32 = 4096;
/// The largest weft-child/Go ratio issue 14 allows on any row ("child
/// stealing must come out no worse than 1.2× Go on every row").
pub const CHILD_LIMIT: f64 = 1.2;

/// The workloads, each implemented for every runtime (and in Go).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Spawn N goroutines that each call `wg.Done()` (handles dropped),
    /// then `wg.Wait()`; ns per goroutine.
    Spawn,
    /// Spawn N goroutines and join each through its handle (Go: a future
    /// channel of capacity 1 per goroutine); ns per goroutine.
    SpawnJoin,
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
    /// The skynet tree, Go's program: N leaves (a power of ten), fan-out
    /// 10, an unbuffered channel per node that the children send to; ms.
    Skynet,
    /// The skynet tree by spawn and join (Go: a future channel of
    /// capacity 1 per child); ms.
    SkynetJoin,
    /// A token passed N hops around a ring of [`RING_SIZE`] goroutines
    /// joined by unbuffered channels; ns per hop.
    Ring,
    /// fib(N), Go's program: a goroutine for every call above the leaves,
    /// its result sent over a channel of capacity 1; ns per spawn.
    Fib,
    /// fib(N) by spawn and join (Go: the same capacity-1 channel, which is
    /// Go's future); ns per spawn.
    FibJoin,
    /// N goroutines blocked on one channel's receive at once; KB of
    /// resident memory each.
    Memory,
    /// [`MUTEX_GOROUTINES`] goroutines share N lock/unlock pairs; ns per lock.
    Mutex,
    /// N goroutines each sleep 1–2 ms (spread evenly); ms until all woke.
    Timers,
    /// A loopback TCP echo server and N clients in one process, a goroutine
    /// (task, thread) per connection on both sides: all N connect, then each
    /// makes [`ECHO_ROUNDS`] round trips of [`ECHO_MSG`] bytes; round trips
    /// per second (plus the [`Metric`]s).
    Echo,
}

impl Kind {
    /// Every workload, in report order.
    pub const ALL: [Kind; 15] = [
        Kind::Spawn,
        Kind::SpawnJoin,
        Kind::Yield,
        Kind::PingPong,
        Kind::Buffered,
        Kind::Select,
        Kind::Skynet,
        Kind::SkynetJoin,
        Kind::Ring,
        Kind::Fib,
        Kind::FibJoin,
        Kind::Memory,
        Kind::Mutex,
        Kind::Timers,
        Kind::Echo,
    ];

    /// The name used on the command line, in JSON and by the Go program.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Spawn => "spawn",
            Kind::SpawnJoin => "spawn-join",
            Kind::Yield => "yield",
            Kind::PingPong => "pingpong",
            Kind::Buffered => "buffered",
            Kind::Select => "select",
            Kind::Skynet => "skynet",
            Kind::SkynetJoin => "skynet-join",
            Kind::Ring => "ring",
            Kind::Fib => "fib",
            Kind::FibJoin => "fib-join",
            Kind::Memory => "memory",
            Kind::Mutex => "mutex",
            Kind::Timers => "timers",
            Kind::Echo => "echo",
        }
    }

    /// The unit of the figure every implementation returns.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Spawn | Kind::SpawnJoin => "ns/goroutine",
            Kind::Yield => "ns/switch",
            Kind::PingPong => "ns/round trip",
            Kind::Buffered | Kind::Select => "ns/message",
            Kind::Skynet | Kind::SkynetJoin | Kind::Timers => "ms",
            Kind::Ring => "ns/hop",
            Kind::Fib | Kind::FibJoin => "ns/spawn",
            Kind::Memory => "KB/goroutine",
            Kind::Mutex => "ns/lock",
            Kind::Echo => "round trips/s",
        }
    }

    /// How many runs a cell of this workload takes, given the report's
    /// default: memory once (RSS per goroutine does not vary between runs,
    /// and a million parked goroutines take seconds to set up); echo once
    /// (a million round trips at 10,000 connections take 25-45 s per run;
    /// `--runs N` asks for more).
    pub fn runs(self, default: usize, asked: bool) -> usize {
        match self {
            Kind::Memory => 1,
            Kind::Echo if !asked => 1,
            _ => default,
        }
    }

    /// How long one run may take before it is killed, given the report's
    /// default: echo three times as long (see [`Kind::runs`]).
    pub fn timeout(self, default: std::time::Duration) -> std::time::Duration {
        match self {
            Kind::Echo => default * 3,
            _ => default,
        }
    }

    /// What the size argument counts.
    pub fn size_meaning(self) -> &'static str {
        match self {
            Kind::Spawn | Kind::SpawnJoin | Kind::Memory => "goroutines",
            Kind::Yield => "yields per goroutine",
            Kind::PingPong => "round trips",
            Kind::Buffered | Kind::Select => "messages",
            Kind::Skynet | Kind::SkynetJoin => "leaves",
            Kind::Ring => "hops",
            Kind::Fib | Kind::FibJoin => "n of fib(n)",
            Kind::Mutex => "locks",
            Kind::Timers => "timers",
            Kind::Echo => "connections",
        }
    }

    /// What each runtime runs for this workload: the report prints it
    /// under every row, so a reader sees that the programs are the same.
    pub fn programs(self) -> Programs {
        let p = |weft, go, tokio, threads| Programs {
            weft,
            go,
            tokio,
            threads,
        };
        match self {
            Kind::Spawn => p(
                "go! (handle dropped) calling wg.done() on an Arc<WaitGroup>, then wg.wait()",
                "go func() { wg.Done() }(), then wg.Wait()",
                "tokio::spawn (handle dropped) calling done() on a WaitGroup (AtomicUsize + \
                 Notify; tokio has none), then wait()",
                "thread::spawn (detached) calling done() on a WaitGroup (Mutex + Condvar)",
            ),
            Kind::SpawnJoin => p(
                "go! per goroutine, each joined: JoinHandle::join",
                "go + a chan struct{} of cap 1 per goroutine (Go's future), received once each",
                "tokio::spawn per task, each JoinHandle awaited",
                "thread::spawn per thread, each JoinHandle::join",
            ),
            Kind::Yield => p(
                "2 × go!, weft::yield_now() loop, WaitGroup",
                "2 × go, runtime.Gosched() loop, WaitGroup",
                "2 × tokio::spawn, task::yield_now().await loop, WaitGroup (AtomicUsize + Notify)",
                "2 threads, thread::yield_now() (sched_yield), WaitGroup (Mutex + Condvar)",
            ),
            Kind::PingPong => p(
                "2 × chan(0), echo goroutine ranging over ping",
                "2 × make(chan int), echo goroutine ranging over ping",
                "2 × mpsc::channel(1) (tokio has no rendezvous channel), echo task",
                "2 × std sync_channel(0), echo thread",
            ),
            Kind::Buffered => p(
                "chan(128); the producer goroutine sends, then drops (closes); the consumer \
                 ranges",
                "make(chan int, 128); the producer goroutine sends, then closes; the consumer \
                 ranges",
                "mpsc::channel(128); the producer task sends, then drops its sender",
                "crossbeam bounded(128); the producer thread sends, then drops its sender",
            ),
            Kind::Select => p(
                "4 producer goroutines on chan(0) (never closed), select! over 4 recv cases",
                "4 producer goroutines on make(chan int) (never closed), select over 4 cases",
                "4 producer tasks on mpsc::channel(1) (never closed), tokio::select! over 4 \
                 recv",
                "4 producer threads on crossbeam bounded(0) (never closed), crossbeam select! \
                 over 4 recv",
            ),
            Kind::Skynet => p(
                "go! + chan(0) per node; the 10 children send to it, the parent receives 10",
                "go + make(chan int) per node; the 10 children send to it, the parent \
                 receives 10",
                "tokio::spawn + mpsc::channel(1) per node (tokio's closest to unbuffered); \
                 children send, the parent receives 10",
                "n/a",
            ),
            Kind::SkynetJoin => p(
                "go! per child, the parent joins its 10 JoinHandles",
                "go + a chan int of cap 1 per child (Go's future), the parent receives each once",
                "tokio::spawn per child, the parent awaits its 10 JoinHandles",
                "n/a",
            ),
            Kind::Ring => p(
                "10k × (go! + chan(0)); at 0 close the next channel and drain; WaitGroup",
                "10k × (go + make(chan int)); at 0 close the next channel and drain; WaitGroup",
                "10k × (tokio::spawn + mpsc::channel(1)); at 0 drop the next sender and drain; \
                 WaitGroup",
                "10k threads (64 KB stacks) + sync_channel(0); at 0 drop the next sender and \
                 drain; WaitGroup",
            ),
            Kind::Fib => p(
                "go! + chan(1) per call: the child sends fib(n-1), the parent receives once",
                "go + make(chan int, 1) per call: the child sends fib(n-1), the parent \
                 receives once",
                "tokio::spawn + mpsc::channel(1) per call",
                "thread::spawn + sync_channel(1) per call",
            ),
            Kind::FibJoin => p(
                "go! per call, JoinHandle::join",
                "the fib row's program: go + make(chan int, 1) per call — a cap-1 chan \
                 received once IS Go's future",
                "tokio::spawn per call, JoinHandle awaited",
                "thread::spawn per call, JoinHandle::join",
            ),
            Kind::Memory => p(
                "weft::Builder spawn (handle dropped); each blocks on recv of one chan(0), \
                 closed at the end; started/done WaitGroups",
                "go; each blocks on <-release (one chan struct{}, closed at the end); \
                 started/done WaitGroups",
                "tokio::spawn; each awaits watch::Receiver::changed() on one watch channel, \
                 closed (sender dropped) at the end; started/done WaitGroups",
                "threads (64 KB stacks); each blocks on recv of one crossbeam bounded(0), \
                 closed at the end; started/done WaitGroups",
            ),
            Kind::Mutex => p(
                "8 × go!, weft::sync::Mutex, WaitGroup",
                "8 × go, sync.Mutex, WaitGroup",
                "8 × tokio::spawn, tokio::sync::Mutex, WaitGroup",
                "8 threads, std Mutex, WaitGroup",
            ),
            Kind::Timers => p(
                "go! + weft::time::sleep(1–2 ms) + an atomic count + WaitGroup",
                "go + time.Sleep(1–2 ms) + an atomic count + WaitGroup",
                "tokio::spawn + tokio::time::sleep(1–2 ms) + an atomic count + WaitGroup",
                "n/a",
            ),
            Kind::Echo => p(
                "weft::net: an accept loop, go! per connection (read, write_all back); clients \
                 go! each, connect, WaitGroup, wait on a closed chan, write_all + read_exact",
                "net: an accept loop, go per connection (Read, Write back); clients go each, \
                 Dial, WaitGroup, wait on a closed chan, Write + io.ReadFull",
                "tokio::net: an accept loop, tokio::spawn per connection; clients a task each, \
                 connect, a Semaphore to start, write_all + read_exact",
                "std::net: an accept thread, a thread per connection; clients a thread each, \
                 Barriers to start, write_all + read_exact (up to 1,000 connections)",
            ),
        }
    }
}

/// What each runtime runs for one workload (one line each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Programs {
    /// weft, under both spawn policies.
    pub weft: &'static str,
    /// `sched-bench/go/main.go`.
    pub go: &'static str,
    /// tokio.
    pub tokio: &'static str,
    /// OS threads ("n/a" where the row is not run on threads).
    pub threads: &'static str,
}

impl fmt::Display for Programs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "weft: {}; Go: {}; tokio: {}; threads: {}",
            self.weft, self.go, self.tokio, self.threads
        )
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

/// A figure a row reports. Most workloads have one; an echo run also
/// yields its latency, threads and memory, reported as rows of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// The workload's own figure, in [`Kind::unit`].
    Main,
    /// 99th percentile of the round-trip latencies, µs.
    P99,
    /// OS threads in the process at the peak.
    Threads,
    /// Resident memory per idle connection (both ends), KB.
    Memory,
}

impl Metric {
    /// The extra metrics of an echo run, in report order.
    pub const ECHO: [Metric; 3] = [Metric::P99, Metric::Threads, Metric::Memory];

    /// The key a worker prints (`metric.KEY=V`) and JSON uses.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Main => "value",
            Metric::P99 => "p99_us",
            Metric::Threads => "threads",
            Metric::Memory => "kb_per_conn",
        }
    }

    /// The metric a key names.
    pub fn from_key(k: &str) -> Option<Metric> {
        Metric::ECHO.into_iter().find(|m| m.key() == k)
    }
}

/// One row of the report: a workload, at a fixed `maxprocs` or at the
/// machine's default, at a fixed size or at the scale's, and which of its
/// figures the row shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The workload.
    pub kind: Kind,
    /// `Some(n)`: run at maxprocs `n` (GOMAXPROCS, tokio workers, CPUs the
    /// threads are pinned to). `None`: the report's default maxprocs.
    pub procs: Option<usize>,
    /// `Some(n)`: this size (the echo rows' connections) at full scale.
    pub size: Option<u64>,
    /// Which figure; rows other than [`Metric::Main`] are not measured
    /// themselves but derived from their main row's runs.
    pub metric: Metric,
}

impl Row {
    /// The rows of the report, in order.
    pub fn all() -> Vec<Row> {
        let mut rows = Vec::new();
        for kind in Kind::ALL {
            match kind {
                Kind::Yield | Kind::PingPong => {
                    for p in [1, 2] {
                        rows.push(Row {
                            procs: Some(p),
                            ..Row::main(kind)
                        });
                    }
                }
                Kind::Echo => {
                    for n in ECHO_CONNS {
                        rows.push(Row {
                            size: Some(n),
                            ..Row::main(kind)
                        });
                    }
                }
                _ => rows.push(Row::main(kind)),
            }
        }
        rows
    }

    /// The main row of `kind` at the default maxprocs and size.
    pub fn main(kind: Kind) -> Row {
        Row {
            kind,
            procs: None,
            size: None,
            metric: Metric::Main,
        }
    }

    /// The row showing `metric` of this (main) row's runs, at `procs`.
    pub fn with_metric(self, metric: Metric, procs: usize) -> Row {
        Row {
            metric,
            procs: Some(procs),
            ..self
        }
    }

    /// The row's id: the workload's name, with `-p1`/`-p2` for a fixed
    /// maxprocs, `-N` for a fixed size and `-KEY` for a derived metric.
    /// `--only` accepts it, or the bare workload name.
    pub fn id(&self) -> String {
        let mut id = self.kind.name().to_string();
        if let Some(n) = self.size {
            id.push_str(&format!("-{n}"));
        } else if let Some(p) = self.procs {
            id.push_str(&format!("-p{p}"));
        }
        if self.metric != Metric::Main {
            id.push('-');
            id.push_str(self.metric.key());
        }
        id
    }

    /// Whether a bigger figure is better on this row (a throughput).
    pub fn higher_is_better(&self) -> bool {
        self.kind == Kind::Echo && self.metric == Metric::Main
    }

    /// The unit of this row's figure.
    pub fn unit(&self) -> &'static str {
        match self.metric {
            Metric::Main => self.kind.unit(),
            Metric::P99 => "µs",
            Metric::Threads => "threads",
            Metric::Memory => "KB/connection",
        }
    }

    /// A human title for the table. Rows whose weft program joins handles
    /// say "(spawn+join)"; their channel twins say "(channels)".
    pub fn title(&self) -> String {
        let base = match self.kind {
            Kind::Spawn => "spawn to completion (WaitGroup)",
            Kind::SpawnJoin => "spawn, join each (spawn+join)",
            Kind::Yield => "yield between 2 goroutines",
            Kind::PingPong => "unbuffered ping-pong",
            Kind::Buffered => "buffered chan throughput (cap 128)",
            Kind::Select => "select over 4 channels",
            Kind::Skynet => "skynet (channels)",
            Kind::SkynetJoin => "skynet (spawn+join)",
            Kind::Ring => "token ring, 10k goroutines",
            Kind::Fib => "fib (channels)",
            Kind::FibJoin => "fib (spawn+join)",
            Kind::Memory => "memory per parked goroutine",
            Kind::Mutex => "mutex, 8 goroutines",
            Kind::Timers => "timer storm",
            Kind::Echo => "TCP echo",
        };
        if self.kind == Kind::Echo {
            let n = self.size.unwrap_or(0);
            return match self.metric {
                Metric::Main => format!("{base}, {n} connections"),
                Metric::P99 => format!("  {base} {n}: p99 round trip"),
                Metric::Threads => format!("  {base} {n}: peak OS threads"),
                Metric::Memory => format!("  {base} {n}: memory per idle conn"),
            };
        }
        match self.procs {
            Some(p) => format!("{base} @{p}P"),
            None => base.to_string(),
        }
    }

    /// Issue 14's goal for weft (default spawn policy) on this row (issue
    /// 16's for the echo rows at 1,000 connections and more), if it has one.
    pub fn goal(&self) -> Option<Goal> {
        if self.kind == Kind::Echo {
            if self.size.unwrap_or(0) < 1_000 {
                return None;
            }
            return Some(match self.metric {
                Metric::Main => Goal::AtLeastGo,
                Metric::P99 => Goal::RatioToGo(1.0),
                // All of the process's threads: main, sysmon, helpers, Ms.
                Metric::Threads => Goal::AtMost(self.procs? as f64 + 10.0),
                Metric::Memory => Goal::GoPlus(2.0),
            });
        }
        match self.kind {
            Kind::Spawn | Kind::Yield | Kind::Skynet => Some(Goal::RatioToGo(0.6)),
            Kind::PingPong if self.procs == Some(1) => Some(Goal::RatioToGo(0.6)),
            Kind::PingPong => Some(Goal::RatioToGo(0.8)),
            Kind::Select => Some(Goal::RatioToGo(0.8)),
            Kind::Fib | Kind::Timers | Kind::Ring => Some(Goal::RatioToGo(1.0)),
            Kind::Memory => Some(Goal::AtMost(4.2)),
            Kind::SpawnJoin
            | Kind::SkynetJoin
            | Kind::FibJoin
            | Kind::Buffered
            | Kind::Mutex
            | Kind::Echo => None,
        }
    }
}

/// A target weft must reach on a row (issue 14).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// weft's figure at most this multiple of Go's.
    RatioToGo(f64),
    /// weft's figure at most this, in the row's unit.
    AtMost(f64),
    /// weft's figure at least Go's (a throughput).
    AtLeastGo,
    /// weft's figure at most Go's plus this, in the row's unit.
    GoPlus(f64),
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::RatioToGo(r) if *r == 1.0 => write!(f, "≤ Go"),
            Goal::RatioToGo(r) => write!(f, "≤ {r}× Go"),
            Goal::AtMost(v) => write!(f, "≤ {v}"),
            Goal::AtLeastGo => write!(f, "≥ Go"),
            Goal::GoPlus(v) => write!(f, "≤ Go + {v}"),
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
        Kind::Spawn | Kind::SpawnJoin => pick(scale, 1_000_000, 20_000),
        Kind::Yield => pick(scale, 1_000_000, 20_000),
        Kind::PingPong => pick(scale, 500_000, 20_000),
        Kind::Buffered => pick(scale, 5_000_000, 50_000),
        Kind::Select => pick(scale, 500_000, 20_000),
        Kind::Skynet | Kind::SkynetJoin => pick(scale, 1_000_000, 10_000),
        Kind::Ring => pick(scale, 500_000, 20_000),
        Kind::Fib | Kind::FibJoin => pick(scale, 27, 16),
        Kind::Memory => pick(scale, 1_000_000, 10_000),
        Kind::Mutex => pick(scale, 10_000_000, 100_000),
        Kind::Timers => pick(scale, 1_000_000, 10_000),
        Kind::Echo => 100,
    }
}

/// The size of `row` for goroutine runtimes.
pub fn row_size(row: Row, scale: Scale) -> u64 {
    match (row.kind, row.size) {
        // --quick: a tenth of the connections (10, 100, 1,000).
        (Kind::Echo, Some(n)) => pick(scale, n, n / 10),
        (_, Some(n)) => n,
        (kind, None) => goroutine_size(kind, scale),
    }
}

/// Whether and at which size `rt` runs `row`.
pub fn plan(rt: Runtime, row: Row, scale: Scale) -> Plan {
    let size = row_size(row, scale);
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
            Kind::Spawn | Kind::SpawnJoin => run(pick(scale, 5_000, 1_000), Some("fewer threads")),
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
            Kind::Skynet | Kind::SkynetJoin => na("n/a: 1.1M OS threads"),
            Kind::Ring => run(pick(scale, 10_000, 2_000), Some("10k threads, fewer hops")),
            Kind::Fib | Kind::FibJoin => run(pick(scale, 15, 10), Some("smaller n")),
            Kind::Memory => run(
                pick(scale, 10_000, 1_000),
                Some("fewer threads, 64 KB stacks"),
            ),
            Kind::Mutex => run(size, Some("std Mutex")),
            Kind::Timers => na("n/a: a million OS threads"),
            Kind::Echo if size > 1_000 => na("n/a: two OS threads per connection (20,000)"),
            Kind::Echo => run(size, Some("std::net, two threads per connection")),
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

/// The number of OS threads in this process (`/proc/self/status`).
pub fn process_threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What one echo run measured; every runtime's implementation fills it
/// the same way.
#[derive(Clone, Debug)]
pub struct EchoResult {
    /// Round trips per second over the whole exchange phase.
    pub round_trips_per_s: f64,
    /// 99th percentile round-trip latency, µs.
    pub p99_us: f64,
    /// OS threads in the process at the peak (measuring threads excluded).
    pub peak_threads: f64,
    /// (RSS with every connection open and idle − RSS before) / connections, KB.
    pub kb_per_conn: f64,
}

impl EchoResult {
    /// Computes the figures from the raw measurements. `latencies_ns` holds
    /// every round trip of every client.
    pub fn new(
        conns: u64,
        elapsed: Duration,
        mut latencies_ns: Vec<u32>,
        rss_before: u64,
        rss_idle: u64,
        peak_threads: usize,
    ) -> Result<EchoResult, String> {
        let want = conns as usize * ECHO_ROUNDS;
        if latencies_ns.len() != want {
            return Err(format!(
                "echo: {} round trips, expected {want}",
                latencies_ns.len()
            ));
        }
        let i = (want * 99).div_ceil(100).saturating_sub(1);
        let (_, p99, _) = latencies_ns.select_nth_unstable(i);
        Ok(EchoResult {
            round_trips_per_s: want as f64 / elapsed.as_secs_f64(),
            p99_us: *p99 as f64 / 1e3,
            peak_threads: peak_threads as f64,
            kb_per_conn: rss_idle.saturating_sub(rss_before) as f64 / conns as f64 / 1024.0,
        })
    }

    /// The extra metrics, keyed as workers print them.
    pub fn metrics(&self) -> Vec<(Metric, f64)> {
        vec![
            (Metric::P99, self.p99_us),
            (Metric::Threads, self.peak_threads),
            (Metric::Memory, self.kb_per_conn),
        ]
    }
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
    fn threads_program_is_na_exactly_where_threads_skip() {
        for row in Row::all() {
            let skipped = matches!(plan(Runtime::Threads, row, Scale::Quick), Plan::Skip { .. });
            let p = row.kind.programs();
            // yield is run on threads at 1P only: its program is still one.
            if row.kind != Kind::Yield {
                assert_eq!(p.threads == "n/a", skipped, "{}", row.id());
            }
            for text in [p.weft, p.go, p.tokio, p.threads] {
                assert!(!text.is_empty(), "{}", row.id());
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.name().parse::<Kind>(), Ok(k));
        }
        assert_eq!(Row::all().len(), 19);
        let ids: Vec<String> = Row::all().iter().map(Row::id).collect();
        assert!(ids.contains(&"echo-10000".to_string()), "{ids:?}");
        let last = *Row::all().last().unwrap();
        assert_eq!(last.with_metric(Metric::P99, 2).id(), "echo-10000-p99_us");
        assert!(last.higher_is_better());
        assert!(!last.with_metric(Metric::Threads, 2).higher_is_better());
    }
}
