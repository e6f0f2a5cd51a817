//! Running one measurement: the runtimes, the worker process, and the
//! parent's side of it (spawn, time out, parse, take the median).
//!
//! Every measurement runs in a fresh child process. weft's spawn policy and
//! maxprocs are fixed per process (they must be installed before the runtime
//! starts), memory figures need a clean RSS baseline, and a runtime that
//! hangs or crashes must cost one cell, not the report. So the report
//! re-executes its own binary as `sched-bench --worker RUNTIME WORKLOAD SIZE
//! PROCS`, and runs the Go program the same way; both print one line
//! `value=V`.
//!
//! Must never: run two measurements at once (they would share the two
//! cores), or turn a failure into a number.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::workloads::{self, EchoResult, Kind, Metric};

/// A runtime the report compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// weft, default spawn policy (continuation stealing).
    WeftContinuation,
    /// weft, Go's spawn policy (child stealing).
    WeftChild,
    /// Go, built from `sched-bench/go`.
    Go,
    /// tokio tasks.
    Tokio,
    /// std OS threads.
    Threads,
}

impl Runtime {
    /// The report's columns, in order.
    pub const ALL: [Runtime; 5] = [
        Runtime::WeftContinuation,
        Runtime::WeftChild,
        Runtime::Go,
        Runtime::Tokio,
        Runtime::Threads,
    ];

    /// The name used in JSON and on the worker command line.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::WeftContinuation => "weft-continuation",
            Runtime::WeftChild => "weft-child",
            Runtime::Go => "go",
            Runtime::Tokio => "tokio",
            Runtime::Threads => "threads",
        }
    }

    /// The column header.
    pub fn label(self) -> &'static str {
        match self {
            Runtime::WeftContinuation => "weft (cont)",
            Runtime::WeftChild => "weft (child)",
            Runtime::Go => "Go",
            Runtime::Tokio => "tokio",
            Runtime::Threads => "threads",
        }
    }

    /// Whether this is one of weft's policies.
    pub fn is_weft(self) -> bool {
        matches!(self, Runtime::WeftContinuation | Runtime::WeftChild)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Runtime, String> {
        Runtime::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown runtime `{s}`"))
    }
}

/// What one run measured: the row's figure and, for the echo workload, the
/// figures of its [`Metric`] rows (printed as `metric.KEY=V`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    /// The row's figure, in its unit.
    pub value: f64,
    /// The other metrics of the same run.
    pub metrics: Vec<(Metric, f64)>,
}

impl From<f64> for Measured {
    fn from(value: f64) -> Measured {
        Measured {
            value,
            metrics: Vec::new(),
        }
    }
}

impl From<EchoResult> for Measured {
    fn from(e: EchoResult) -> Measured {
        Measured {
            value: e.round_trips_per_s,
            metrics: e.metrics(),
        }
    }
}

/// The worker side: `sched-bench --worker RUNTIME WORKLOAD SIZE PROCS`.
/// Runs one measurement in this process, prints `value=V` (and
/// `metric.KEY=V` lines) and returns the exit code.
pub fn worker_main(args: &[String]) -> i32 {
    let parsed = (|| -> Result<(Runtime, Kind, u64, usize), String> {
        let [rt, kind, size, procs] = args else {
            return Err("usage: sched-bench --worker RUNTIME WORKLOAD SIZE PROCS".into());
        };
        let size = size.parse().map_err(|_| format!("bad size `{size}`"))?;
        let procs = procs.parse().map_err(|_| format!("bad procs `{procs}`"))?;
        Ok((rt.parse()?, kind.parse()?, size, procs))
    })();
    let (rt, kind, size, procs) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sched-bench --worker: {e}");
            return 2;
        }
    };
    match measure_here(rt, kind, size, procs) {
        Ok(m) => {
            println!("value={:.3}", m.value);
            for (k, v) in m.metrics {
                println!("metric.{}={v:.3}", k.key());
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn measure_here(rt: Runtime, kind: Kind, size: u64, procs: usize) -> Result<Measured, String> {
    if kind == Kind::Echo {
        return measure_echo(rt, size, procs);
    }
    measure_one(rt, kind, size, procs).map(Measured::from)
}

fn measure_echo(rt: Runtime, size: u64, procs: usize) -> Result<Measured, String> {
    // In the child of an echo run (see `workloads/echo.rs`): the clients.
    let client = match std::env::var(workloads::echo::CLIENT_ENV) {
        Ok(a) => Some(
            a.parse::<std::net::SocketAddr>()
                .map_err(|e| format!("echo client address {a:?}: {e}"))?,
        ),
        Err(_) => None,
    };
    match rt {
        Runtime::WeftContinuation | Runtime::WeftChild => {
            install_weft(rt, procs)?;
            match client {
                Some(addr) => workloads::weft::echo_client(addr, size).map(Measured::from),
                None => workloads::weft::echo_server(rt.name(), size, procs),
            }
        }
        Runtime::Tokio => match client {
            Some(addr) => workloads::tokio::echo_client(addr, size, procs).map(Measured::from),
            None => workloads::tokio::echo_server(rt.name(), size, procs),
        },
        Runtime::Threads => {
            if procs < num_cpus() {
                workloads::threads::pin_to(procs)?;
            }
            match client {
                Some(addr) => workloads::threads::echo_client(addr, size).map(Measured::from),
                None => workloads::threads::echo_server(rt.name(), size, procs),
            }
        }
        Runtime::Go => Err("the Go workloads are in sched-bench/go".into()),
    }
}

fn install_weft(rt: Runtime, procs: usize) -> Result<(), String> {
    let policy = if rt == Runtime::WeftChild {
        weft::SpawnPolicy::ChildStealing
    } else {
        weft::SpawnPolicy::ContinuationStealing
    };
    weft::Config::new()
        .maxprocs(procs)
        .spawn_policy(policy)
        .install()
        .map_err(|e| e.to_string())
}

fn measure_one(rt: Runtime, kind: Kind, size: u64, procs: usize) -> Result<f64, String> {
    match rt {
        Runtime::WeftContinuation | Runtime::WeftChild => {
            install_weft(rt, procs)?;
            workloads::weft::run(kind, size)
        }
        Runtime::Tokio => workloads::tokio::run(kind, size, procs),
        Runtime::Threads => {
            if procs < num_cpus() {
                workloads::threads::pin_to(procs)?;
            }
            workloads::threads::run(kind, size)
        }
        Runtime::Go => Err("the Go workloads are in sched-bench/go".into()),
    }
}

/// The number of CPUs this process may use.
pub fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One measurement to make in a child process.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    /// Which runtime.
    pub rt: Runtime,
    /// Which workload.
    pub kind: Kind,
    /// Its size.
    pub size: u64,
    /// maxprocs for the run.
    pub procs: usize,
    /// The Go program, for `Runtime::Go`.
    pub go_bin: Option<&'a Path>,
    /// Killed after this long.
    pub timeout: Duration,
}

/// Lets this process and its children open `n` files: the soft limit is
/// raised to the hard one, and the hard one to `n` when allowed (root).
/// The echo rows hold two sockets per connection in one process, and every
/// runtime's worker inherits the same limits. Failure changes nothing: the
/// run then fails with its own error (too many open files).
fn allow_open_files(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill and setrlimit to read.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        let want = lim.rlim_max.max(n as libc::rlim_t);
        let raised = libc::rlimit {
            rlim_cur: want,
            rlim_max: want,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Runs one measurement in a child process and returns its figures, or a
/// one-line reason it failed.
pub fn run_once(job: &Job) -> Result<Measured, String> {
    if job.kind == Kind::Echo {
        allow_open_files(2 * job.size + 1024);
    }
    let mut cmd = match job.rt {
        Runtime::Go => {
            let bin = job.go_bin.ok_or("Go program not built")?;
            let mut c = Command::new(bin);
            c.arg(job.kind.name()).arg(job.size.to_string());
            c.env("GOMAXPROCS", job.procs.to_string());
            c
        }
        _ => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut c = Command::new(exe);
            c.arg("--worker")
                .arg(job.rt.name())
                .arg(job.kind.name())
                .arg(job.size.to_string())
                .arg(job.procs.to_string());
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    // Drain both pipes on threads so a chatty child cannot block on them.
    let mut out_pipe = child.stdout.take().ok_or("no stdout")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr")?;
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) => break Some(st),
            None if start.elapsed() > job.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(format!("timed out after {} s", job.timeout.as_secs()));
    };
    if let Some(m) = parse_output(&out) {
        if status.success() {
            return Ok(m);
        }
    }
    let why = root_cause(&err);
    Err(format!("failed ({status}): {why}"))
}

/// The figures a worker (or the Go program) printed: the last `value=V`
/// and every `metric.KEY=V`; `None` without a finite value.
pub fn parse_output(out: &str) -> Option<Measured> {
    let value = out
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("value="))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())?;
    let metrics = out
        .lines()
        .filter_map(|l| l.strip_prefix("metric."))
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((Metric::from_key(k)?, v.trim().parse::<f64>().ok()?))
        })
        .collect();
    Some(Measured { value, metrics })
}

/// The line of a failed run's stderr that says what went wrong: the
/// message of the first panic (the root cause; later ones are usually
/// `unwrap`s of it), else a `fatal error:` or `error:` line, else the last
/// line. At most 160 characters.
fn root_cause(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let pick = lines
        .iter()
        .position(|l| l.contains("panicked at"))
        .and_then(|i| lines.get(i + 1))
        .or_else(|| lines.iter().find(|l| l.starts_with("fatal error:")))
        .or_else(|| lines.iter().find(|l| l.starts_with("error:")))
        .or(lines.last())
        .copied()
        .unwrap_or("no output");
    pick.chars().take(160).collect()
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_cause_is_the_first_panic() {
        let err = "goroutine 7 panicked at src/a.rs:1:1:\nweft: failed to spawn\n\
                   goroutine 1 panicked at src/b.rs:2:2:\ncalled unwrap on Err\n";
        assert_eq!(root_cause(err), "weft: failed to spawn");
        assert_eq!(root_cause("x\nfatal error: boom\ny\n"), "fatal error: boom");
        assert_eq!(root_cause(""), "no output");
    }

    #[test]
    fn worker_output_with_metrics() {
        let m = parse_output("noise\nvalue=12.5\nmetric.p99_us=40\nmetric.bogus=1\n").unwrap();
        assert_eq!(m.value, 12.5);
        assert_eq!(m.metrics, vec![(Metric::P99, 40.0)]);
        assert!(parse_output("value=inf\n").is_none());
    }

    #[test]
    fn median_odd_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn runtime_names_round_trip() {
        for r in Runtime::ALL {
            assert_eq!(r.name().parse::<Runtime>(), Ok(r));
        }
    }
}
