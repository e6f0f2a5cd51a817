//! Wait-queue nodes: how every `sync` type parks a goroutine and how a waker
//! finds and readies it (Go's `sudog`, without the pool).
//!
//! Owns: [`Waiter`], a node that lives **on the waiting goroutine's stack**
//! (or the waiting thread's), and [`WaiterPtr`], the raw pointer to it that
//! a queue stores. No allocation per wait: a queue is a `VecDeque` of
//! pointers behind a small std mutex, which is only ever held for a few
//! instructions and never across a park except by handing its guard to the
//! park's commit closure.
//!
//! The protocol, and why a node on a stack is safe:
//!
//! 1. The waiter builds a `Waiter` (state `WAITING`, holding its own
//!    [`Unparker`]), pushes a `WaiterPtr` to it while holding the queue
//!    lock, and parks; the commit closure releases the queue lock.
//! 2. A waker pops the pointer while holding the queue lock. From then on
//!    it is the only one that may touch the node. It moves the `Unparker`
//!    out, stores the wake state (`Release`) and — only after that store,
//!    never touching the node again — unparks the waiter.
//! 3. The waiter loops on `park` until it reads a non-`WAITING` state
//!    (`Acquire`, pairs with the store in 2). A spurious return from `park`
//!    just loops. So the node's frame outlives every access by the waker.
//!
//! Must never: return from [`Waiter::wait`] before the state is set, or let
//! a waker touch a node after storing its state.

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::park::{park, unparker, Unparker};
use crate::WaitReason;

/// Not yet woken.
const WAITING: u8 = 0;
/// Woken: go and re-check (or, for queues that grant on wake, granted).
pub(crate) const WOKEN: u8 = 1;
/// Woken with the resource handed over directly (Go's `sudog.ticket = 1`).
pub(crate) const HANDOFF: u8 = 2;

/// A wait-queue node. Lives on the waiter's stack; see the module comment.
pub(crate) struct Waiter {
    /// Taken by the waker (once, after popping the node).
    unparker: UnsafeCell<Option<Unparker>>,
    state: AtomicU8,
    /// What the waiter asks for (a semaphore weight); read by the waker
    /// while the node is still queued.
    weight: usize,
}

impl Waiter {
    /// A node for the current goroutine or thread.
    pub(crate) fn new(weight: usize) -> Waiter {
        Waiter {
            unparker: UnsafeCell::new(Some(unparker())),
            state: AtomicU8::new(WAITING),
            weight,
        }
    }

    /// The pointer a queue stores. The node must stay where it is until
    /// [`Waiter::wait`] returns.
    pub(crate) fn ptr(&self) -> WaiterPtr {
        WaiterPtr(NonNull::from(self))
    }

    /// Parks until a waker has set the state; returns it ([`WOKEN`] or
    /// [`HANDOFF`]). `commit` runs once the goroutine is off its stack: it
    /// releases the lock of the queue this node was just pushed to.
    pub(crate) fn wait(&self, reason: WaitReason, commit: impl FnOnce()) -> u8 {
        park(reason, commit);
        loop {
            // Acquire: pairs with the Release store in `WaiterPtr::wake`, so
            // everything the waker did before waking us is visible.
            let s = self.state.load(Ordering::Acquire);
            if s != WAITING {
                return s;
            }
            park(reason, || {});
        }
    }
}

/// A pointer to a queued [`Waiter`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterPtr(NonNull<Waiter>);

// A `Waiter` holds an atomic, a plain `usize` and an `Unparker` (`Send`).
// SAFETY: only whoever popped the pointer from its queue under the queue's
// lock dereferences it, while the node is alive (its waiter cannot return
// before the state is set); only that popper touches the fields.
unsafe impl Send for WaiterPtr {}

impl WaiterPtr {
    /// The weight the waiter asked for.
    ///
    /// # Safety
    /// The node must still be queued (or popped and not yet woken).
    pub(crate) unsafe fn weight(self) -> usize {
        // SAFETY: the caller guarantees the node is alive (see above); the
        // field is never written after construction.
        unsafe { self.0.as_ref().weight }
    }

    /// Wakes the waiter with `how` ([`WOKEN`] or [`HANDOFF`]).
    ///
    /// # Safety
    /// The caller must have removed this pointer from its queue (under the
    /// queue's lock) and must call this at most once; the node is alive until
    /// the state store below, and is not touched after it.
    pub(crate) unsafe fn wake(self, how: u8) {
        // SAFETY: we popped the node, so its waiter is still in `wait` and
        // nobody else touches `unparker`; the frame is alive until the store.
        let u = unsafe {
            let w = self.0.as_ref();
            let u = (*w.unparker.get()).take();
            // Release: pairs with the Acquire load in `Waiter::wait`.
            w.state.store(how, Ordering::Release);
            u
        };
        // The node may be gone from here on: only the moved-out handle is used.
        if let Some(u) = u {
            u.unpark();
        }
    }
}
