//! Wait-queue nodes: how every `sync` type queues a parked goroutine and
//! how a waker finds and readies it.
//!
//! Owns: [`Waiter`], a node that lives **on the waiting goroutine's stack**
//! (or the waiting thread's): the runtime's one wait record
//! ([`park::Waiter`](crate::park::Waiter), the same record channels and
//! `join` use) plus the weight a semaphore waiter asks for; and
//! [`WaiterPtr`], the raw pointer to it that a queue stores. No allocation
//! per wait: a queue is a `VecDeque` of pointers behind a small std mutex,
//! which is only ever held for a few instructions and never across a park
//! except by handing its guard to the park's commit closure.
//!
//! The protocol (the wait record's, with the queue lock as the claim):
//!
//! 1. The waiter builds a `Waiter`, pushes a `WaiterPtr` to it while holding
//!    the queue lock, and parks; the commit closure releases the queue lock.
//! 2. A waker pops the pointer while holding the queue lock: from then on
//!    it is the only one that may touch the node. It claims the record with
//!    the wake state ([`WOKEN`] or [`HANDOFF`]) and wakes it; the record's
//!    `DONE` store is its last touch.
//! 3. The waiter returns from its wait only after `DONE`, so the node's
//!    frame outlives every access by the waker.
//!
//! Must never: return from [`Waiter::wait`] before the state is set, or let
//! a waker touch a node after waking it.

use std::ptr::NonNull;

use crate::park;
use crate::WaitReason;

/// Woken: go and re-check (or, for queues that grant on wake, granted).
pub(crate) const WOKEN: u8 = 1;
/// Woken with the resource handed over directly (Go's `sudog.ticket = 1`).
pub(crate) const HANDOFF: u8 = 2;

/// A wait-queue node. Lives on the waiter's stack; see the module comment.
pub(crate) struct Waiter {
    record: park::Waiter,
    /// What the waiter asks for (a semaphore weight); read by the waker
    /// while the node is still queued.
    weight: usize,
}

impl Waiter {
    /// A node for the current goroutine or thread.
    pub(crate) fn new(weight: usize) -> Waiter {
        Waiter {
            record: park::Waiter::new(),
            weight,
        }
    }

    /// The pointer a queue stores. The node must stay where it is until
    /// [`Waiter::wait`] returns.
    pub(crate) fn ptr(&self) -> WaiterPtr {
        WaiterPtr(NonNull::from(self))
    }

    /// Parks until a waker has woken this node; returns how ([`WOKEN`] or
    /// [`HANDOFF`]). `commit` runs once the goroutine is off its stack: it
    /// releases the lock of the queue this node was just pushed to.
    pub(crate) fn wait(&self, reason: WaitReason, commit: impl FnOnce()) -> u8 {
        self.record.wait(reason, commit) as u8
    }
}

/// A pointer to a queued [`Waiter`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterPtr(NonNull<Waiter>);

// SAFETY: only whoever popped the pointer from its queue under the queue's
// lock dereferences it, while the node is alive (its waiter cannot return
// before the record is DONE); the node's fields are an atomic wait record
// and a plain `usize` never written after construction.
unsafe impl Send for WaiterPtr {}

impl WaiterPtr {
    /// The weight the waiter asked for.
    ///
    /// # Safety
    /// The node must still be queued (or popped and not yet woken).
    pub(crate) unsafe fn weight(self) -> usize {
        // SAFETY: the node is queued or popped and not yet woken (the
        // caller's contract), so its owner is parked in `Waiter::wait`,
        // which it leaves only after the wake stores `DONE`: the node's
        // frame is alive. `weight` is never written after construction, so
        // this read races with nothing.
        unsafe { self.0.as_ref().weight }
    }

    /// Wakes the waiter with `how` ([`WOKEN`] or [`HANDOFF`]).
    ///
    /// # Safety
    /// The caller must have removed this pointer from its queue (under the
    /// queue's lock) and must call this at most once; the node is not
    /// touched after the wake.
    pub(crate) unsafe fn wake(self, how: u8) {
        // SAFETY: we popped the node, so nobody else can claim it and its
        // owner waits in `wait` until the record is DONE.
        unsafe {
            let record: *const park::Waiter = &self.0.as_ref().record;
            (*record).claim_exclusive(how as usize);
            park::Waiter::wake(record);
        }
    }
}
