//! `blocking(f)`: run a call that blocks its OS thread without stalling the
//! goroutines behind it (Go's `entersyscall`/`exitsyscall`).
//!
//! Owns: the enter/exit protocol. On entry the M bumps its `blocking_seq`
//! (odd: inside a call) and keeps its P; if sysmon sees the same call on two
//! passes (at least 20 µs) and other goroutines are waiting, it retakes the P and runs
//! it on another M (see `sched::sysmon`). On exit the goroutine takes its P
//! back if it is still there (the fast path: one uncontended lock), else an
//! idle P, else it queues itself on the global queue and its M goes idle.
//! On the fast path it yields if sysmon asked its P to rotate (its time
//! slice ran out while others waited): a loop of short calls, each too
//! short for a retake, would otherwise keep the P forever (Go's
//! TestPreemptionAfterSyscall).
//!
//! Why not hand the P off at once? Measured with `runtime/examples/blocking_cost.rs`:
//! an immediate hand-off wakes another M for every call (microseconds),
//! while most blocking calls (a cached file read, a getpid) finish in far
//! less; Go made the same choice.
//!
//! Inside `f` the goroutine behaves like a plain thread: parking blocks the
//! thread, spawning queues the child. (It keeps its id, its
//! goroutine-locals and its `lock_os_thread` wiring: `g::owner`.)
//!
//! A goroutine a panic is unwinding through never switches (see
//! `park::park`): if its P was retaken and none is free when its call
//! returns, it carries on without a P, as one that ran too long does, and
//! its M requeues it at its next scheduling point.
//!
//! Must never: switch the goroutine away while `f` runs, or leave the M
//! marked as blocking after `f` returns or unwinds.

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
    g::set_blocking(Some(me));
    m.shared.bump_blocking_seq();
    sched::sysmon::poke();
    crate::trace::blocking(me, true);
    let _exit = ExitBlocking(me);
    f()
}

/// Leaves the blocking section when `f` returns or unwinds.
struct ExitBlocking(GPtr);

impl Drop for ExitBlocking {
    fn drop(&mut self) {
        // The goroutine has not switched since entry: same thread, same M.
        let m = current_m().expect("blocking() left on a thread that is not an M");
        crate::trace::blocking(self.0, false);
        m.shared.bump_blocking_seq();
        m.in_blocking.set(false);
        g::set_blocking(None);
        let kept = m.shared.p.lock().as_ref().map(|p| p.p.preempt_requested());
        if let Some(rotate) = kept {
            // Fast path: sysmon left our P alone. But a goroutine that
            // loops on short calls never reaches a scheduling point, and
            // sysmon rarely sees one call on two passes; so when its slice
            // has run out (sysmon's rotation request), it yields here, as
            // Go's exitsyscall honours a pending preemption.
            if rotate && !std::thread::panicking() {
                // SAFETY: `self.0` is `me`, the goroutine that entered
                // `blocking` on this stack; it has not switched since (a
                // blocking section never parks as a goroutine), so we are on
                // its own stack, and `set_blocking(None)` made it current
                // again for the M that resumes it.
                unsafe { self.0.coro.suspend(Switch::Yield) };
            }
            return;
        }
        let rt = sched::runtime();
        let idle_p = rt.idle.take_idle_p();
        if let Some(p) = idle_p {
            *m.shared.p.lock() = Some(p);
            return;
        }
        if std::thread::panicking() {
            // Never switch while unwinding (module comment): run on
            // without a P; the M requeues us at our next switch.
            return;
        }
        // No P free: queue ourselves; the M sleeps until it gets one.
        // SAFETY: `self.0` is `me`, the goroutine that entered `blocking` on
        // this stack and has not switched since, so we are on its own
        // stack.
        unsafe { self.0.coro.suspend(Switch::Requeue) };
    }
}
