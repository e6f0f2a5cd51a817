//! The echo workload's two-process protocol, shared by every runtime's
//! implementation (Go's in `go/main.go` speaks the same).
//!
//! Ten thousand connections are 20,000 sockets; with both ends in one
//! process that is above the usual open-file hard limit (20,000 on the
//! machine this was built on, where it cannot be raised). So the server runs
//! in the worker process and the clients in a child, the same program on
//! the same runtime, started with [`CLIENT_ENV`] naming the address:
//!
//! 1. the server binds, starts the child, accepts every connection (a
//!    goroutine/task/thread each) and measures its own memory per idle
//!    connection;
//! 2. the child connects every client (one each), prints `connected`, and
//!    waits for a line on its stdin;
//! 3. the server writes `start`; every client makes its round trips; the
//!    child prints its figures in the worker's format (`value=`, `metric.*`)
//!    and exits;
//! 4. the server adds its memory to the child's and takes the larger of
//!    the two processes' peak thread counts.
//!
//! Must never: let a failure on one side leave the other waiting (each side
//! exits with an `error:` line instead).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use super::Metric;
use crate::runners::{parse_output, Measured};

/// Set in the child: the server's address.
pub const CLIENT_ENV: &str = "SCHED_BENCH_ECHO_CLIENT";

/// The client process, seen from the server.
pub struct Child {
    child: std::process::Child,
    out: BufReader<ChildStdout>,
    stdin: ChildStdin,
}

impl Child {
    /// Starts this worker again as the client side of `rt`'s echo run.
    pub fn spawn(rt: &str, addr: SocketAddr, n: u64, procs: usize) -> Result<Child, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["--worker", rt, "echo", &n.to_string(), &procs.to_string()])
            .env(CLIENT_ENV, addr.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("echo client process: {e}"))?;
        let out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let stdin = child.stdin.take().ok_or("no stdin")?;
        Ok(Child { child, out, stdin })
    }

    /// Waits until every client is connected (blocks the thread).
    pub fn connected(&mut self) -> Result<(), String> {
        let mut line = String::new();
        self.out
            .read_line(&mut line)
            .map_err(|e| format!("echo client: {e}"))?;
        if line.trim() == "connected" {
            Ok(())
        } else {
            Err(format!("echo client failed before connecting: {line:?}"))
        }
    }

    /// Lets the clients go.
    pub fn start(&mut self) -> Result<(), String> {
        self.stdin
            .write_all(b"start\n")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("echo client: {e}"))
    }

    /// Waits for the client process's figures (blocks the thread).
    pub fn finish(mut self) -> Result<Measured, String> {
        let mut rest = String::new();
        for line in (&mut self.out).lines() {
            rest.push_str(&line.map_err(|e| e.to_string())?);
            rest.push('\n');
        }
        let status = self.child.wait().map_err(|e| e.to_string())?;
        match parse_output(&rest) {
            Some(m) if status.success() => Ok(m),
            _ => Err(format!("echo client process ({status}): {rest}")),
        }
    }
}

/// The server's side added to the client's figures: memory of both ends
/// per connection, and the larger peak of OS threads.
pub fn combine(mut client: Measured, server_kb: f64, server_threads: usize) -> Measured {
    for (m, v) in &mut client.metrics {
        match m {
            Metric::Memory => *v += server_kb,
            Metric::Threads => *v = v.max(server_threads as f64),
            _ => {}
        }
    }
    client
}

/// In the client: tells the server every client is connected.
pub fn announce_connected() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "connected");
    let _ = out.flush();
}

/// In the client: waits for the server's `start` (blocks the thread).
pub fn wait_start() -> Result<(), String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.trim() == "start" {
        Ok(())
    } else {
        Err(format!("echo server went away: {line:?}"))
    }
}

/// KB per connection of a resident-memory growth.
pub fn kb_per(before: u64, after: u64, n: u64) -> f64 {
    after.saturating_sub(before) as f64 / n as f64 / 1024.0
}
