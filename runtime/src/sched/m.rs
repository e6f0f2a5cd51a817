//! M: the per-thread state of an OS thread that runs goroutines.
//!
//! Owns: [`MLocal`] (what only the M's own thread touches), [`MShared`]
//! (what sysmon, stats and dumps read, plus the P slot sysmon may empty),
//! the per-M counters, and the thread-local pointer to the current M.
//!
//! Counters live here, not on the P: an M is one thread, so it can bump its
//! own counters with a plain load and store, without holding its P (which
//! sysmon may take away at any moment).
//!
//! Must never: let runtime code keep a reference to the current M across a
//! stack switch — always call [`current_m`] again after a park, yield or
//! spawn.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::idle::{MHandle, Spinning};
use super::p::bump;
use super::pcell::PCell;
use crate::g::GPtr;

/// Counters of one M (written by its own thread only) or, as atomics bumped
/// with `fetch_add`, of the threads that are not Ms.
#[derive(Default)]
pub(crate) struct MCounters {
    pub spawned: AtomicU64,
    pub exited: AtomicU64,
    pub parks: AtomicU64,
    pub unparks: AtomicU64,
}

impl MCounters {
    /// Adds `other` into `self` (an exiting M folds its counters into the
    /// runtime's).
    pub fn absorb(&self, other: &MCounters) {
        for (a, b) in [
            (&self.spawned, &other.spawned),
            (&self.exited, &other.exited),
            (&self.parks, &other.parks),
            (&self.unparks, &other.unparks),
        ] {
            a.fetch_add(b.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

/// Per-M state reachable from the M's own thread.
pub(crate) struct MLocal {
    pub handle: Arc<MHandle>,
    /// The part sysmon and the dumps can see.
    pub shared: &'static MShared,
    /// Held while this M is counted in `nmspinning`.
    pub spinning: Cell<Option<Spinning>>,
    /// Whether the current goroutine is inside `blocking()`.
    pub in_blocking: Cell<bool>,
    /// Whether a goroutine is wired to this M (`lock_os_thread`).
    pub locked: Cell<Locked>,
    /// `lock_os_thread` nesting of the goroutine wired here (Go keeps it
    /// in the M too: `m.lockedExt`); 0 when none is.
    pub lock_depth: Cell<u32>,
}

/// An M's `lock_os_thread` state (Go's `m.lockedg`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    /// Runs whatever it finds.
    No,
    /// Runs only this goroutine: while it waits, the M sleeps without a P
    /// until the M that takes it from a queue hands it back with a P.
    To(GPtr),
    /// Its goroutine exited locked: the thread exits too (Go's rule: it
    /// may have been left in a state nobody else should inherit).
    Exit,
}

/// Per-M state other threads can see.
pub(crate) struct MShared {
    pub id: usize,
    /// The P this M holds, if any; sysmon may retake it.
    pub p: PCell,
    /// Bumped on entry to and exit from `blocking()`: odd while the
    /// goroutine is inside. sysmon retakes the P when it sees the same odd
    /// value on two passes (at least 20 µs apart) — no clock read per call.
    pub blocking_seq: AtomicU64,
    /// Bumped every time the M resumes a goroutine and every time one
    /// switches back: odd while a goroutine runs. sysmon notices a goroutine
    /// running too long when this stays odd and unchanged (Go's `schedtick`
    /// check) — no clock read on the switch path.
    pub run_seq: AtomicU64,
    /// The goroutine record this M last resumed (an address for sysmon's
    /// long-run report to look up in the registry, never dereferenced
    /// directly); meaningful while `run_seq` is odd.
    pub running: AtomicUsize,
    /// The OS thread id (for `/proc/self/task/TID`).
    pub tid: i32,
    /// The M's thread has exited (idle too long).
    pub exited: AtomicBool,
    /// Written by this M's thread only.
    pub counters: MCounters,
}

impl MShared {
    /// Marks a goroutine starting or stopping on this M (only the M writes it).
    #[inline]
    pub fn bump_run_seq(&self) {
        bump(&self.run_seq, 1);
    }

    /// Marks entry to or exit from a blocking section (`blocking()`, timer
    /// callbacks); only this M writes it. Whether sysmon sees the new value
    /// at once does not matter: the P slot's lock orders a retake against
    /// the exit.
    #[inline]
    pub fn bump_blocking_seq(&self) {
        self.blocking_seq.store(
            self.blocking_seq.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }
}

thread_local! {
    static CURRENT_M: Cell<Option<&'static MLocal>> = const { Cell::new(None) };
}

/// The M this thread is, if it is one.
///
/// `#[inline(never)]` so the thread-local's address is computed afresh on
/// every call: a goroutine may resume on another thread between two calls,
/// and the compiler may otherwise reuse the first thread's address.
#[inline(never)]
pub(crate) fn current_m() -> Option<&'static MLocal> {
    CURRENT_M.with(|c| c.get())
}

pub(crate) fn set_current_m(m: &'static MLocal) {
    CURRENT_M.with(|c| c.set(Some(m)));
}
