//! `blocking(f)`: run a call that blocks its OS thread without stalling the
//! goroutines behind it (Go's `entersyscall`/`exitsyscall`).
//!
//! Owns: the enter/exit protocol. On entry the M bumps its `blocking_seq`
//! (odd: inside a call) and keeps its P; if sysmon sees the same call on two
//! passes (at least 20 µs) and other goroutines are waiting, it retakes the P and runs
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

use std::sync::atomic::{AtomicU64, Ordering};

use crate::g::{self, GPtr, Switch};
use crate::sched::{self, current_m};

/// Runs `f`, which may block its OS thread (a file read, a DNS lookup, a
/// lock from another library), while the rest of the program runs on:
/// the goroutine's processor goes to another thread if `f` takes long.
/// On a plain thread it just calls `f`.
///
/// ```
/// let text = weft::run(|| {
///     weft::blocking(|| std::fs::read_to_string("Cargo.toml"))
/// });
/// assert!(text.unwrap().contains("[package]"));
/// ```
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let Some(m) = current_m() else {
        return f();
    };
    if m.in_blocking.get() {
        return f();
    }
    let Some(me) = g::current() else {
        return f();
    };
    m.in_blocking.set(true);
    // Inside, the goroutine behaves as a plain thread: no current G.
    g::set_current(None);
    bump(&m.shared.blocking_seq);
    crate::trace::blocking(me, true);
    let _exit = ExitBlocking(me);
    f()
}

/// Marks entry or exit (only this M writes its counter). Whether sysmon
/// sees the new value at once does not matter: the P slot's lock orders a
/// retake against our exit.
#[inline]
fn bump(seq: &AtomicU64) {
    seq.store(
        seq.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

/// Leaves the blocking section when `f` returns or unwinds.
struct ExitBlocking(GPtr);

impl Drop for ExitBlocking {
    fn drop(&mut self) {
        // The goroutine has not switched since entry: same thread, same M.
        let m = current_m().expect("blocking() left on a thread that is not an M");
        crate::trace::blocking(self.0, false);
        bump(&m.shared.blocking_seq);
        m.in_blocking.set(false);
        g::set_current(Some(self.0));
        if m.shared.p.lock().is_some() {
            return; // fast path: sysmon left our P alone
        }
        let rt = sched::runtime();
        let idle_p = rt.idle.take_idle_p();
        if let Some(p) = idle_p {
            *m.shared.p.lock() = Some(p);
            return;
        }
        // No P free: queue ourselves; the M sleeps until it gets one.
        // SAFETY: `self.0` is the goroutine running on this stack.
        unsafe { self.0.coro.suspend(Switch::Requeue) };
    }
}
