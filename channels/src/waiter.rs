//! Waiters: what a blocked send, receive or select leaves in a channel's
//! queue (Go's `sudog`), and the one state word that decides who completes
//! it (Go's `selectDone` CAS plus `sudog.success`).
//!
//! Owns: [`Waiter`] (the claim word and the unpark handle of one blocked
//! operation — shared by every case of a select), [`Packet`] (one case's
//! value slot) and [`Entry`] (a packet queued on a channel under one case
//! index).
//!
//! The claim word, `Waiter::state`:
//!
//! ```text
//!   WAITING (0) --CAS by a waker holding the channel lock--> CLAIMED(case)
//!               --CAS by a timer (recv_timeout/send_timeout)--> CLAIMED(TIMEOUT)
//!   CLAIMED(case) --fetch_or(DONE) by the claimer, after the transfer--> DONE(case)
//! ```
//!
//! Exactly one CAS from `WAITING` succeeds, so exactly one party completes
//! the operation; every other party that finds this waiter in a queue sees
//! the CAS fail and drops its (stale) entry. The claimer moves the value
//! through the packet's slot and only then sets `DONE` (release) and
//! unparks; the waiter leaves its park loop only on seeing `DONE`
//! (acquire), so it never reads a half-done transfer, and a spurious
//! wake-up (a token left by an earlier unpark) just parks again.
//!
//! Must never: be claimed twice, or let the waiter return before `DONE`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use weft_runtime::park::{park, unparker, Unparker};
use weft_runtime::WaitReason;

const WAITING: usize = 0;
const DONE: usize = 1;

/// The case index a timer claims with (the `*_timeout` forms).
pub(crate) const TIMEOUT: usize = usize::MAX >> 2;

/// One blocked operation: a `send`, a `recv`, or a whole `select!`.
pub(crate) struct Waiter {
    /// `WAITING`, or `(case + 1) << 1`, or that `| DONE`.
    state: AtomicUsize,
    unparker: Unparker,
}

impl Waiter {
    /// A waiter for the calling goroutine (or thread).
    pub(crate) fn new() -> Waiter {
        Waiter {
            state: AtomicUsize::new(WAITING),
            unparker: unparker(),
        }
    }

    /// Tries to become the one party that completes this operation, as
    /// `case`. Called with the lock of the channel that queues the entry
    /// held (or by a timer).
    pub(crate) fn try_claim(&self, case: usize) -> bool {
        // AcqRel: acquire pairs with the waiter's own setup (its packet was
        // published under the channel lock anyway); release orders nothing
        // yet — the transfer is published by `finish`.
        self.state
            .compare_exchange(
                WAITING,
                (case + 1) << 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// After a successful `try_claim` and the transfer: let the waiter go.
    pub(crate) fn finish(&self) {
        // Release: pairs with the acquire load in `wait`, so the waiter
        // sees the value moved through its slot.
        self.state.fetch_or(DONE, Ordering::Release);
        self.unparker.unpark();
    }

    /// Parks until claimed and finished; returns the winning case. The
    /// first park runs `commit` (which releases the channel locks that made
    /// the entries visible) once the caller is off its stack.
    pub(crate) fn wait(&self, reason: WaitReason, commit: impl FnOnce()) -> usize {
        park(reason, commit);
        loop {
            // Acquire: pairs with the release in `finish`.
            let s = self.state.load(Ordering::Acquire);
            if s & DONE != 0 {
                return (s >> 1) - 1;
            }
            park(reason, || {});
        }
    }
}

/// The waiter a packet belongs to: its own (a single send or receive) or
/// the select's shared one.
pub(crate) enum WaiterRef {
    Own(Waiter),
    Shared(Arc<Waiter>),
}

/// One case's value slot. For a receive the claimer puts the value in (it
/// stays `None` when the channel closed); for a send it holds the value and
/// the claimer takes it (it stays `Some` when the channel closed).
pub(crate) struct Packet<T> {
    slot: Mutex<Option<T>>,
    waiter: WaiterRef,
}

impl<T> Packet<T> {
    pub(crate) fn new(value: Option<T>, waiter: WaiterRef) -> Packet<T> {
        Packet {
            slot: Mutex::new(value),
            waiter,
        }
    }

    pub(crate) fn waiter(&self) -> &Waiter {
        match &self.waiter {
            WaiterRef::Own(w) => w,
            WaiterRef::Shared(w) => w,
        }
    }

    /// The slot. Only the claimer (before `finish`) and the waiter (after
    /// `DONE`) touch it, so the lock is never contended; it is here so the
    /// hand-over needs no `unsafe`.
    pub(crate) fn slot(&self) -> MutexGuard<'_, Option<T>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A packet queued on one channel, under the case index it would win with.
pub(crate) struct Entry<T> {
    pub(crate) packet: Arc<Packet<T>>,
    pub(crate) case: usize,
}

impl<T> Entry<T> {
    /// Tries to claim this entry's waiter (see the module comment).
    pub(crate) fn claim(&self) -> bool {
        self.packet.waiter().try_claim(self.case)
    }

    /// Sets `DONE` and unparks the waiter. Call after releasing the
    /// channel lock (Go readies the G after `unlock`, too).
    pub(crate) fn finish(self) {
        self.packet.waiter().finish();
    }
}
