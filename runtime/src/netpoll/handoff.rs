//! Who blocks in `epoll_wait`, and whether it has been told to stop: the
//! netpoller's hand-off words, as one type so that `runtime/tests/loom.rs`
//! model-checks these very transitions (through `crate::loom`).
//!
//! Owns: three words. `blocked_m`: the id of the M blocked in `epoll_wait`
//! (or about to be), or 0 — at most one M blocks there, so that the eventfd
//! wake-up always reaches the M it is meant for. `poll_wanted`: a timer-role
//! M found `blocked_m` taken and sleeps on its condvar; the leaving poller
//! must wake the role holder. `wake_sig`: a wake-up is written to the
//! eventfd and not yet consumed (Go's `netpollWakeSig`).
//!
//! The protocol (`mod.rs` runs it with the real eventfd and epoll):
//! - the timer-role M, holding its slot lock, [`Handoff::claim`]s, reads
//!   its deadline, unlocks and blocks; on return it drains the eventfd if
//!   it was woken through it and leaves ([`Handoff::back`]) before it
//!   readies anyone, and wakes the role holder if one wanted the poll
//!   ([`Handoff::take_wanted`]);
//! - a waker changes what the M waits for (a P in its slot, an earlier
//!   deadline) then asks [`Handoff::must_signal`]: `true` means write the
//!   eventfd.
//!
//! Every write is a read-modify-write (a `swap` where a store would do):
//! the others' writes are RMWs, and loom 0.7 may let an RMW read a value
//! older than a plain store that happens-before it, which showed as lost
//! wake-ups that the hardware cannot produce. Each runs once per
//! `epoll_wait` or per failed claim: nothing on a hot path.
//!
//! Must never: make a system call, or know about Ms beyond their ids.

use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The three hand-off words (see the module comment).
pub(crate) struct Handoff {
    blocked_m: AtomicUsize,
    poll_wanted: AtomicBool,
    wake_sig: AtomicBool,
}

impl Handoff {
    /// Nobody polls, nothing wanted, no wake-up pending.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Handoff {
        Handoff {
            blocked_m: AtomicUsize::new(0),
            poll_wanted: AtomicBool::new(false),
            wake_sig: AtomicBool::new(false),
        }
    }

    /// As above, with loom's atomics (which cannot be built in a const).
    #[cfg(loom)]
    pub(crate) fn new() -> Handoff {
        Handoff {
            blocked_m: AtomicUsize::new(0),
            poll_wanted: AtomicBool::new(false),
            wake_sig: AtomicBool::new(false),
        }
    }

    /// Timer-role M `m` (ids start at 1) claims `epoll_wait`: `true` when
    /// it may block there. If another M holds it, that M has lost the role
    /// and is leaving; it wakes the role holder when it has left
    /// ([`Handoff::take_wanted`]), so `m` sleeps on its condvar until then.
    ///
    /// No lost hand-over: we store `poll_wanted` then try again; the leaver
    /// clears `blocked_m` then reads `poll_wanted` (all `SeqCst`), so
    /// either our retry succeeds or the leaver sees the flag.
    pub(crate) fn claim(&self, m: usize) -> bool {
        let claim = || {
            self.blocked_m
                .compare_exchange(0, m, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        };
        if claim() {
            return true;
        }
        self.poll_wanted.swap(true, Ordering::SeqCst);
        claim()
    }

    /// The poller is back from `epoll_wait`, `broken` if the eventfd was
    /// among its events: it consumes the wake-up (`drain` empties the
    /// eventfd, then later wake-ups write it again), then leaves — before
    /// it readies anyone, so that a wakep handing it a P need not write
    /// the eventfd, and before the caller re-checks why it might have been
    /// woken, so that a waker that comes after that re-check writes again.
    ///
    /// Consume, then leave: once `blocked_m` is 0 another M may claim the
    /// poll, and a waker that finds `wake_sig` set skips its write for that
    /// M, counting on the pending one. Drained after leaving, that write
    /// was taken from under the new poller, which then slept through its
    /// wake-up (a P in its slot, an earlier timer) until its old deadline
    /// (loom: `netpoll_break_for_the_next_poller_is_not_drained`).
    pub(crate) fn back(&self, broken: bool, drain: impl FnOnce()) {
        if broken {
            drain();
            self.wake_sig.swap(false, Ordering::SeqCst);
        }
        self.blocked_m.swap(0, Ordering::SeqCst);
    }

    /// After [`Handoff::back`]: whether a role holder found us blocked
    /// and waits to be woken to take over (the caller wakes it).
    pub(crate) fn take_wanted(&self) -> bool {
        self.poll_wanted.swap(false, Ordering::SeqCst)
    }

    /// A waker's half (Go's `netpollBreak`), after it changed what M `m`
    /// waits for: `true` when `m` is blocked in `epoll_wait` and no
    /// wake-up is pending — the caller must write the eventfd.
    pub(crate) fn must_signal(&self, m: usize) -> bool {
        self.blocked_m.load(Ordering::SeqCst) == m && !self.wake_sig.swap(true, Ordering::SeqCst)
    }

    /// Whether a wake-up is written to the eventfd, or about to be, and not
    /// yet consumed (for the loom models' assertions).
    #[cfg(loom)]
    pub(crate) fn break_pending(&self) -> bool {
        self.wake_sig.load(Ordering::SeqCst)
    }

    /// Whether M `m` is blocked in `epoll_wait` (or about to be).
    pub(crate) fn polling(&self, m: usize) -> bool {
        self.blocked_m.load(Ordering::SeqCst) == m
    }

    /// Whether some M is blocked in `epoll_wait` (or about to be); a
    /// hint, for a poller deciding whether to poll beside it.
    pub(crate) fn anyone_polling(&self, order: Ordering) -> bool {
        self.blocked_m.load(order) != 0
    }
}
