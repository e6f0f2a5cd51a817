//! Deadlock detection (Go's `checkdead`).
//!
//! Owns: deciding, when an M goes idle, whether no goroutine can ever run
//! again, and then printing Go's report and exiting with status 2.
//!
//! The rule, conservative on purpose (no false positives):
//! - every P is idle and no goroutine is queued anywhere;
//! - no timer is pending, no `blocking()` call is in flight;
//! - at least one goroutine is alive (all of them parked);
//! - every thread of the process is accounted for: each is an M, one of the
//!   runtime's own (sysmon, `weft-report`, ...), or a plain thread parked
//!   inside weft (`join`, a channel, a lock) — a plain
//!   thread doing anything else (sleeping, reading a pipe, running a test
//!   harness) might still wake a goroutine, so then nothing is reported.
//!   The count comes from `/proc/self/status`.
//!
//! Must never: report while any thread outside the runtime's control could
//! still act, or run while holding a scheduler lock.

use std::sync::atomic::Ordering;

use crate::sched::Runtime;

/// Checks for a global deadlock; on one, prints the report and exits(2).
/// Called by sysmon when every P is idle. The state must look dead twice,
/// [`SETTLE`] apart, with no park, unpark or spawn in between.
pub(crate) fn check(rt: &'static Runtime) {
    if !rt.settings.deadlock_detection {
        return;
    }
    let Some(before) = suspect(rt) else { return };
    std::thread::sleep(SETTLE);
    if suspect(rt) != Some(before) {
        return;
    }
    crate::dump::deadlock_report(rt);
}

/// How long the dead state must hold before it is reported.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(5);

/// If the runtime looks deadlocked, a fingerprint of its activity counters.
fn suspect(rt: &Runtime) -> Option<(u64, u64, u64, u64, u64)> {
    if !quiescent(rt) {
        return None;
    }
    // Count threads: Ms alive + the runtime's own helpers (sysmon, the
    // SIGQUIT reader, schedtrace, the report writer) + plain threads
    // parked in weft.
    let ms = rt.idle.threads();
    let (parked, _, thread_parks) = crate::park::threads_parked();
    let threads = process_threads()?;
    let aux = crate::sched::AUX_THREADS.load(Ordering::SeqCst) + crate::stdio::threads();
    if threads != ms + aux + parked {
        return None;
    }
    let spawned = rt.count(|c| &c.spawned);
    let live = crate::sched::num_goroutine(rt);
    if live == 0 && parked == 0 {
        return None;
    }
    let (parks, unparks) = (rt.count(|c| &c.parks), rt.count(|c| &c.unparks));
    let timers = crate::timer::added();
    quiescent(rt).then_some((spawned, parks, unparks, thread_parks, timers))
}

fn quiescent(rt: &Runtime) -> bool {
    let all_idle = rt.idle.all_idle(rt.maxprocs());
    all_idle
        && !rt.goroutine_running()
        && rt.blocking_calls() == crate::park::threads_parked().1
        && crate::timer::pending() == 0
        && crate::netpoll::waiters() == 0 // netpoll: I/O waiters are alive
        && rt.global.is_empty()
        && rt.all_ps().all(|p| !p.has_work())
}

fn process_threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
}
