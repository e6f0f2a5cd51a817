//! Watching the runtime: the goroutine registry, goroutine dumps (on
//! request and on SIGQUIT), the deadlock report, and `schedtrace` lines.
//!
//! Owns: the text formats, which follow Go's, and the park traces of
//! `WEFT_DEBUG=traceback=1`. The goroutines come from the scheduler's
//! registry of G records (`sched::allgs`), copied out under its lock:
//!
//! ```text
//! goroutine 7 [chan receive, 2 minutes]:
//!     name: worker
//! created by src/main.rs:14:5
//!
//! thread 'main' (4242) [goroutine join]:
//! ```
//!
//! A plain thread waiting in weft (a `main` without `weft::run` joining a
//! goroutine, receiving from a channel) is listed after the goroutines,
//! with the kernel's id of the thread.
//!
//! schedtrace lines are handed to the report writer (`stdio::report`: a
//! stuck stderr drops them, counted, and never stops the printer); the
//! deadlock report and the SIGQUIT dump, after which the process exits,
//! are written whole (`stdio::report_final`).
//!
//! Must never: hold a registry lock while printing, or run from a signal
//! handler (SIGQUIT only writes a byte to a pipe; a thread does the dump).

use std::fmt::Write as _;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::g::{GStatus, GoId, WaitReason};
use crate::sched::{self, allgs, Runtime};
use crate::stdio;

/// What a dump prints of one goroutine, copied out under the registry's
/// shard lock (the record may be recycled the moment the lock is dropped).
struct Snapshot {
    id: GoId,
    status: GStatus,
    reason: WaitReason,
    since: u64,
    name: Option<String>,
    site: String,
}

/// Every live goroutine, by id.
fn live_gs() -> Vec<Snapshot> {
    let mut v = Vec::new();
    allgs::for_each(|g| {
        let status = g.status();
        if status == GStatus::Dead {
            return;
        }
        v.push(Snapshot {
            id: g.id(),
            status,
            reason: g.wait_reason(),
            since: g.wait_since(),
            name: g.name().map(str::to_owned),
            site: g
                .spawn_site()
                .map_or_else(|| "?".to_owned(), |l| l.to_string()),
        });
    });
    v.sort_by_key(|s| s.id);
    v
}

/// A dump of every live goroutine, in Go's shape, then of every plain
/// thread parked in weft (`thread 'main' (4242) [goroutine join]:`), as a
/// string.
///
/// ```
/// let h = weft::Builder::new()
///     .name("dumped")
///     .spawn(|| weft::dump_goroutines())
///     .unwrap();
/// let dump = h.join().unwrap();
/// assert!(dump.contains("[running]:"));
/// assert!(dump.contains("name: dumped"));
/// ```
pub fn dump_goroutines() -> String {
    let _ = sched::runtime();
    let now = crate::clock::nanotime();
    let traces = crate::park::park_traces().lock();
    let mut out = String::new();
    for g in live_gs() {
        let _ = write!(out, "goroutine {} [", g.id);
        match g.status {
            GStatus::Waiting => {
                out.push_str(g.reason.as_str());
                let mins = now.saturating_sub(g.since) / 60_000_000_000;
                if g.since != 0 && mins >= 1 {
                    let _ = write!(out, ", {mins} minutes");
                }
            }
            GStatus::Running => out.push_str("running"),
            GStatus::Runnable => out.push_str("runnable"),
            GStatus::Dead => out.push_str("dead"),
        }
        out.push_str("]:\n");
        if let Some(name) = &g.name {
            let _ = writeln!(out, "\tname: {name}");
        }
        if g.status == GStatus::Waiting {
            if let Some(trace) = traces.get(&g.id.as_u64()) {
                for line in trace.lines() {
                    let _ = writeln!(out, "\t{line}");
                }
            }
        }
        let _ = writeln!(out, "created by {}\n", g.site);
    }
    // Plain threads waiting in weft (a `main` without `weft::run` joining
    // a goroutine): not goroutines, but part of the picture, named as
    // std's panic message names a thread.
    for (name, tid, reason) in crate::park::parked_threads() {
        let _ = writeln!(out, "thread '{name}' ({tid}) [{reason}]:\n");
    }
    out
}

/// Go's deadlock report: the message, every goroutine, exit status 2.
pub(crate) fn deadlock_report(_rt: &Runtime) -> ! {
    let dump = dump_goroutines();
    stdio::report_final(format_args!(
        "fatal error: all goroutines are asleep - deadlock!\n\n{dump}"
    ));
    std::process::exit(2)
}

/// One `SCHED` line, shaped like Go's `schedtrace` output.
pub(crate) fn sched_line(rt: &Runtime, elapsed: Duration, detail: bool) -> String {
    let s = crate::stats::stats();
    let runq: Vec<String> = s.procs.iter().map(|p| p.run_queue.to_string()).collect();
    let ticks: Vec<String> = s.procs.iter().map(|p| p.schedticks.to_string()).collect();
    let needspinning =
        usize::from(s.spinning_threads == 0 && s.idle_procs > 0 && s.global_queue > 0);
    let mut line = format!(
        "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} needspinning={} idlethreads={} runqueue={} [{}] schedticks=[{}]",
        elapsed.as_millis(),
        s.maxprocs,
        s.idle_procs,
        s.threads + 1, // + sysmon, as Go counts it
        s.spinning_threads,
        needspinning,
        s.idle_threads,
        s.global_queue,
        runq.join(" "),
        ticks.join(" "),
    );
    if detail {
        for p in &s.procs {
            let _ = write!(
                line,
                "\n  P{}: runqsize={} schedtick={} steals={}/{}",
                p.id, p.run_queue, p.schedticks, p.steals, p.steal_attempts
            );
        }
        let ms = rt.all_ms.lock().clone();
        for m in ms {
            if m.exited.load(Ordering::Relaxed) {
                continue;
            }
            let p = m.p.lock_remote().as_ref().map_or(-1, |p| p.p.id as i64);
            let _ = write!(
                line,
                "\n  M{}: p={} blocking={} running={}",
                m.id,
                p,
                m.blocking_seq.load(Ordering::Relaxed) % 2 == 1,
                m.run_seq.load(Ordering::Relaxed) % 2 == 1
            );
        }
        for g in live_gs() {
            let _ = write!(
                line,
                "\n  G{}: status={:?} waitreason={} created by {}",
                g.id, g.status, g.reason, g.site
            );
        }
    }
    line
}

/// Starts the `schedtrace` printer when `WEFT_DEBUG=schedtrace=MS` is set.
pub(crate) fn start_schedtrace(rt: &'static Runtime) {
    let ms = rt.settings.debug.schedtrace_ms;
    if ms == 0 {
        return;
    }
    let detail = rt.settings.debug.scheddetail;
    let start = std::time::Instant::now();
    let _ = crate::sched::spawn_aux("weft-schedtrace", move || loop {
        std::thread::sleep(Duration::from_millis(ms));
        let line = sched_line(rt, start.elapsed(), detail);
        stdio::report(format_args!("{line}\n"));
    });
}

/// Installs the SIGQUIT handler: the handler writes a byte to a pipe, and a
/// thread reading the pipe prints the dump and exits with status 2, as Go
/// does. Skipped when the program installed a handler of its own; an
/// ignored SIGQUIT is taken over, as Go does.
pub(crate) fn install_sigquit() {
    static PIPE_W: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

    extern "C" fn on_sigquit(_sig: libc::c_int) {
        let fd = PIPE_W.load(Ordering::Relaxed);
        if fd >= 0 {
            let b = [1u8];
            // SAFETY: write(2) is async-signal-safe; `b` is a valid 1-byte buffer.
            unsafe { libc::write(fd, b.as_ptr().cast(), 1) };
        }
    }

    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2(2) to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    // SAFETY: pipe2 succeeded: both descriptors are open and ours alone.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // A program that closed stdout and stderr would write into the pipe.
    let (Ok(r), Ok(w)) = (stdio::above_stdio(r), stdio::above_stdio(w)) else {
        return;
    };
    // The write end lives as long as the process: the handler may run at
    // any time.
    PIPE_W.store(w.into_raw_fd(), Ordering::Relaxed);
    let res = crate::sched::spawn_aux("weft-sigquit", move || {
        let mut b = [0u8];
        loop {
            // SAFETY: `r` is the read end of the pipe made above, owned by
            // this thread; `b` is a valid 1-byte buffer.
            let n = unsafe { libc::read(r.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
            if n == 1 {
                break;
            }
            if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return;
            }
        }
        let dump = dump_goroutines();
        stdio::report_final(format_args!("SIGQUIT: quit\n\n{dump}"));
        std::process::exit(2);
    });
    if res.is_err() {
        return;
    }
    // SAFETY: an all-zero `sigaction` is a valid starting value; we set the
    // handler and flags before passing it to sigaction(2), and the handler
    // only calls async-signal-safe functions.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGQUIT, std::ptr::null(), &mut old);
        // Over the default or an inherited SIG_IGN (a shell without job
        // control starts background commands with SIGQUIT ignored), as Go
        // does; a handler the program installed stays.
        if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
            return; // someone else handles SIGQUIT
        }
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigquit as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGQUIT, &sa, std::ptr::null_mut());
    }
}
