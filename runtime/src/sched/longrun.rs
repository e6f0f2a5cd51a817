//! The long-run report (`WEFT_DEBUG=longrun=MS`): a goroutine has held its
//! OS thread past the threshold without a scheduling point.
//!
//! Owns: the report's text and its rate limit. sysmon decides when (an M's
//! `run_seq` odd and unchanged, and no `blocking()` call begun, for the
//! threshold: no clock read on the switch path); this module says who,
//! where it was spawned, and what its thread is doing according to the
//! kernel (`/proc/self/task/TID/stat`): sleeping means a blocking call made
//! outside `weft::blocking` or a std lock, running means a long loop.
//!
//! A thread the kernel calls runnable ('R') is reported only if it was on
//! a CPU for at least a quarter of the time since sysmon probed it half-way
//! to the threshold (`/proc/self/task/TID/schedstat`): on a loaded machine a
//! goroutine that does reach scheduling points can have its thread
//! descheduled for tens of milliseconds, and that is not its fault.
//!
//! Each stretch is reported once; after [`MAX_REPORTS`] reports the rest
//! of the process's are counted, not printed.
//!
//! Must never: dereference a goroutine record it has not found in the
//! registry under its lock (the goroutine may have exited and its record
//! been freed), run on an M, or write to stderr other than through
//! `stdio::report` (sysmon calls it, and must not block on stderr).

use std::sync::atomic::{AtomicU32, Ordering};

use super::{allgs, MShared};

/// Reports printed per process before the rest are only counted.
const MAX_REPORTS: u32 = 16;

static REPORTS: AtomicU32 = AtomicU32::new(0);

/// Nanoseconds thread `tid` of this process has spent on a CPU.
pub(super) fn cpu_ns(tid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Reports the goroutine `m` runs, which has held the thread `held_ns`
/// (the stretch numbered `seq`), if it was not merely descheduled since
/// `probe` (stretch, time, CPU time) was taken at `now`-relative time.
/// Returns whether the stretch is done with (reported, or gone). Called
/// by sysmon only.
pub(super) fn report(
    m: &MShared,
    seq: u64,
    held_ns: u64,
    probe: (u64, u64, u64, u64),
    now: u64,
) -> bool {
    let state = thread_state(m.tid);
    if state == Some('R') {
        let (_, at, cpu0, _) = probe;
        let on_cpu = cpu_ns(m.tid).unwrap_or(u64::MAX).saturating_sub(cpu0);
        if on_cpu < now.saturating_sub(at) / 4 {
            return false; // the OS did not run it: look again next pass
        }
    }
    let addr = m.running.load(Ordering::Relaxed);
    let who = allgs::with_addr(addr, |g| {
        let name = g.name().map(|n| format!(" [{n}]")).unwrap_or_default();
        let site = g
            .spawn_site()
            .map_or_else(|| "?".to_owned(), |l| l.to_string());
        (g.id(), name, site)
    });
    // The goroutine may have switched since sysmon looked: then this is
    // not the stretch it measured.
    let Some((id, name, site)) = who else {
        return true;
    };
    if m.run_seq.load(Ordering::Acquire) != seq {
        return true;
    }
    let n = REPORTS.fetch_add(1, Ordering::Relaxed);
    if n > MAX_REPORTS {
        return true;
    }
    if n == MAX_REPORTS {
        crate::stdio::report(format_args!(
            "weft: further long-run reports are suppressed (WEFT_DEBUG=longrun=0 turns them off)\n"
        ));
        return true;
    }
    let what = match state {
        Some('R') => {
            "its thread is running: a long loop? call weft::yield_now() in it, or move it to \
             weft::blocking"
        }
        Some('S' | 'D') => {
            "its thread is blocked in the kernel: a blocking call outside weft::blocking, a \
             std::thread::sleep, or a std lock? use weft::blocking, weft::time::sleep, weft::sync"
        }
        _ => "a blocking call outside weft::blocking, a std lock, or a long loop?",
    };
    crate::stdio::report(format_args!(
        "weft: goroutine {id}{name} has held its thread (M{}) for {} ms without a scheduling \
         point; {what}\n  goroutine {id} created at {site}; goroutines queued behind it wait \
         for another thread (WEFT_DEBUG=longrun=MS sets the threshold, 0 turns this off)\n",
        m.id,
        held_ns / 1_000_000
    ));
    true
}

/// The kernel's one-letter state of thread `tid` of this process.
fn thread_state(tid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}
