//! `blocking(f)`: run a call that blocks its OS thread without stalling the
//! goroutines behind it (Go's `entersyscall`/`exitsyscall`).
//!
//! Owns: the enter/exit protocol. On entry the M records when the call
//! began and keeps its P; if the call lasts longer than sysmon's threshold
//! (20 µs) and other goroutines are waiting, sysmon retakes the P and runs
//! it on another M (see `sched::sysmon`). On exit the goroutine takes its P
//! back if it is still there (the fast path: one uncontended lock), else an
//! idle P, else it queues itself on the global queue and its M goes idle.
//!
//! Why not hand the P off at once? Measured with `runtime/examples/blocking_cost.rs`:
//! an immediate hand-off wakes another M for every call (microseconds),
//! while most blocking calls (a cached file read, a getpid) finish in far
//! less; Go made the same choice.
//!
//! Inside `f` the goroutine behaves like a plain thread: parking blocks the
//! thread, spawning queues the child.
//!
//! Must never: switch the goroutine away while `f` runs, or leave the M
//! marked as blocking after `f` returns or unwinds.

use std::sync::atomic::Ordering;

use crate::coro::{self, Switch};
use crate::sched::{self, current_m, nanotime};

/// Runs `f`, which may block its OS thread (a file read, a DNS lookup, a
/// lock from another library), while the rest of the program runs on:
/// the goroutine's processor goes to another thread if `f` takes long.
/// On a plain thread it just calls `f`.
///
/// ```
/// let text = weft_runtime::run(|| {
///     weft_runtime::blocking(|| std::fs::read_to_string("Cargo.toml"))
/// });
/// assert!(text.unwrap().contains("[package]"));
/// ```
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let Some(m) = current_m() else {
        return f();
    };
    if m.in_blocking.get() || m.curg.borrow().is_none() {
        return f();
    }
    let rt = sched::runtime();
    rt.blocking_in_flight.fetch_add(1, Ordering::SeqCst);
    m.in_blocking.set(true);
    m.shared.blocking_since.store(nanotime(), Ordering::SeqCst);
    let _exit = ExitBlocking;
    f()
}

/// Leaves the blocking section when `f` returns or unwinds.
struct ExitBlocking;

impl Drop for ExitBlocking {
    fn drop(&mut self) {
        // The goroutine has not switched since entry: same thread, same M.
        let m = current_m().expect("blocking() left on a thread that is not an M");
        m.shared.blocking_since.store(0, Ordering::SeqCst);
        m.in_blocking.set(false);
        let rt = sched::runtime();
        rt.blocking_in_flight.fetch_sub(1, Ordering::SeqCst);
        if m.shared.p.lock().is_some() {
            return; // fast path: sysmon left our P alone
        }
        let idle_p = {
            let mut st = rt.idle.state();
            rt.idle.take_p(&mut st)
        };
        if let Some(p) = idle_p {
            *m.shared.p.lock() = Some(p);
            return;
        }
        // No P free: queue ourselves; the M sleeps until it gets one.
        let g = sched::current_g().expect("blocking() left outside its goroutine");
        coro::suspend(&g, Switch::Requeue);
    }
}
