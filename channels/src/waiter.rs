//! Queue entries: what a blocked send, receive or select case leaves in a
//! channel's queue (Go's `sudog` on a `waitq`), and the queue itself.
//!
//! Owns: [`Sudog`] — one case of one blocked operation, living **on the
//! blocked goroutine's stack** — and [`WaitQueue`], an intrusive
//! doubly-linked list of them threaded through their `prev`/`next` fields.
//! A blocked operation therefore allocates nothing, and a `select!`'s
//! losing cases leave their queues in O(1).
//!
//! A `Sudog` points at the operation's [`Waiter`] (the runtime's wait
//! record: its claim word decides which case, or which party, completes
//! the operation; a select's cases share one) and at the value slot on the
//! waiter's stack: `Some(v)` to be taken for a send, `None` to be filled
//! for a receive.
//!
//! Rules (the channel lock is the queue's lock):
//! - links (`prev`, `next`, `linked`) are read and written only under the
//!   lock of the channel whose queue holds the entry;
//! - an entry is touched by others only while linked, or by the one party
//!   that claimed its waiter (which moves the value and then wakes it);
//! - the owner unlinks its still-linked entries (a select's losers, a
//!   timed-out operation) under each channel's lock before its stack frame
//!   goes away, so nobody can reach a dead entry.
//!
//! Must never: be claimed twice (the waiter's CAS, or for an exclusive
//! entry the queue's lock), be touched after its
//! owner returned, or be linked into two queues.
//!
//! Under loom, each entry carries a cell standing for its owner's stack
//! frame: every touch by a party other than the owner reads it, and the
//! entry's drop (the owner's frame going away) writes it, so loom reports
//! a touch that does not happen before the owner returned
//! (`channels/tests/loom.rs`).

use std::cell::Cell;
use std::ptr;

use weft_runtime::park::Waiter;

/// One case of one blocked operation, on the blocked goroutine's stack.
pub(crate) struct Sudog<T> {
    waiter: *const Waiter,
    /// The value slot on the owner's stack.
    slot: *mut Option<T>,
    /// The tag a claimer claims `waiter` with (a select's case index).
    tag: usize,
    prev: Cell<*const Sudog<T>>,
    next: Cell<*const Sudog<T>>,
    linked: Cell<bool>,
    /// Only this queue can claim `waiter` (a plain send or receive with no
    /// deadline): the dequeuer claims it with a store, not a CAS, as Go
    /// skips `selectDone` for a sudog that is not a select's.
    exclusive: bool,
    /// The owner's frame, as loom sees it (see the module comment).
    #[cfg(loom)]
    frame: loom::cell::UnsafeCell<()>,
}

impl<T> Sudog<T> {
    /// An entry for `waiter`, moving values through `slot`; `waiter` may
    /// be claimed elsewhere too (a select's other cases, a deadline).
    pub(crate) fn new(waiter: &Waiter, slot: *mut Option<T>, tag: usize) -> Sudog<T> {
        Sudog::with(waiter, slot, tag, false)
    }

    #[inline(always)]
    fn with(waiter: &Waiter, slot: *mut Option<T>, tag: usize, exclusive: bool) -> Sudog<T> {
        Sudog {
            waiter,
            slot,
            tag,
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
            linked: Cell::new(false),
            exclusive,
            #[cfg(loom)]
            frame: loom::cell::UnsafeCell::new(()),
        }
    }

    /// An entry for a `waiter` that nothing but this entry's queue can
    /// claim (tag 0).
    ///
    /// # Safety
    /// Nothing else may ever claim `waiter`: no other entry, timer or
    /// handle names it.
    pub(crate) unsafe fn exclusive(waiter: &Waiter, slot: *mut Option<T>) -> Sudog<T> {
        Sudog::with(waiter, slot, 0, true)
    }

    /// A touch of a linked or claimed entry by whoever holds it: under
    /// loom a read of the owner's frame (see the module comment).
    ///
    /// # Safety
    /// `s` is alive.
    #[cfg(loom)]
    unsafe fn touch(s: *const Sudog<T>) {
        // SAFETY: the caller guarantees `s` points at a live entry (its
        // owner's frame has not returned); `frame` is only ever reached
        // through shared references, so this read aliases no `&mut`.
        unsafe { (*s).frame.with(|_| ()) }
    }

    /// Nothing outside loom.
    ///
    /// # Safety
    /// As under loom (`s` is alive), so both builds check the same calls.
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn touch(_s: *const Sudog<T>) {}
}

/// Under loom: the owner's frame goes away (see the module comment).
#[cfg(loom)]
impl<T> Drop for Sudog<T> {
    fn drop(&mut self) {
        self.frame.with_mut(|_| ());
    }
}

/// A claimed entry: the one party allowed to move its value and wake it.
pub(crate) struct Claimed<T>(*const Sudog<T>);

// SAFETY: a claimed entry is handed from the lock holder to the code that
// finishes it right after, on the same thread or (for a select's case)
// carried in the select's own frame; its owner waits for the wake.
unsafe impl<T: Send> Send for Claimed<T> {}

impl<T> Claimed<T> {
    /// Puts a received value into the owner's slot.
    ///
    /// # Safety
    /// Called before [`Claimed::wake`] (the owner is still waiting).
    pub(crate) unsafe fn put(&self, v: T) {
        // SAFETY: a `Claimed` comes only from `WaitQueue::dequeue`, so we
        // hold the entry's claim: its owner stays parked in `wait` (its
        // frame, with the entry and its slot, alive) until our `wake`, and
        // nobody else reads or writes the slot meanwhile (the owner made it
        // a raw pointer and holds no reference to it).
        unsafe {
            Sudog::touch(self.0);
            *(*self.0).slot = Some(v)
        }
    }

    /// Takes the value a blocked sender offered.
    ///
    /// # Safety
    /// As for [`Claimed::put`].
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: a `Claimed` comes only from `WaitQueue::dequeue`, so we
        // hold the entry's claim: its owner stays parked in `wait` (its
        // frame, with the entry and its `Some(v)` slot, alive) until our
        // `wake`, and nobody else reads or writes the slot meanwhile (the
        // owner made it a raw pointer and holds no reference to it).
        unsafe {
            Sudog::touch(self.0);
            (*(*self.0).slot).take()
        }
    }

    /// Wakes the owner. Call after releasing the channel lock (Go readies
    /// the G after `unlock`, too); the entry may be gone afterwards.
    pub(crate) fn wake(self) {
        // SAFETY: we claimed its waiter (`WaitQueue::dequeue`), the owner
        // waits for this wake, and this is the only wake for the claim.
        // The entry is read before the wake: its owner may return at once.
        unsafe {
            Sudog::touch(self.0);
            Waiter::wake((*self.0).waiter)
        }
    }
}

/// A channel's queue of blocked senders or receivers.
pub(crate) struct WaitQueue<T> {
    head: *const Sudog<T>,
    tail: *const Sudog<T>,
}

impl<T> Default for WaitQueue<T> {
    fn default() -> Self {
        WaitQueue {
            head: ptr::null(),
            tail: ptr::null(),
        }
    }
}

impl<T> WaitQueue<T> {
    /// Appends `s`.
    ///
    /// # Safety
    /// The caller holds the queue's channel lock; `s` is not linked and
    /// stays where it is until it is unlinked (by a dequeuer or its owner).
    pub(crate) unsafe fn push_back(&mut self, s: &Sudog<T>) {
        debug_assert!(!s.linked.get());
        s.prev.set(self.tail);
        s.next.set(ptr::null());
        s.linked.set(true);
        if self.tail.is_null() {
            self.head = s;
        } else {
            // SAFETY: linked entries are alive (module rules).
            unsafe {
                Sudog::touch(self.tail);
                (*self.tail).next.set(s)
            };
        }
        self.tail = s;
    }

    /// Unlinks `s`, if it is linked.
    ///
    /// # Safety
    /// The caller holds the queue's channel lock, and `s` is alive and, if
    /// linked, linked in this queue.
    pub(crate) unsafe fn unlink(&mut self, s: &Sudog<T>) {
        // SAFETY: `s` is a reference, so the entry is alive.
        unsafe { Sudog::touch(s) };
        if !s.linked.replace(false) {
            return;
        }
        let (prev, next) = (s.prev.get(), s.next.get());
        // SAFETY: the neighbours are linked, hence alive (module rules).
        unsafe {
            if prev.is_null() {
                self.head = next;
            } else {
                Sudog::touch(prev);
                (*prev).next.set(next);
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                Sudog::touch(next);
                (*next).prev.set(prev);
            }
        }
    }

    /// Pops the first entry whose waiter can still be claimed, claimed;
    /// drops the stale ones on the way (a select another channel already
    /// won, a timed-out waiter).
    ///
    /// # Safety
    /// The caller holds the queue's channel lock.
    pub(crate) unsafe fn dequeue(&mut self) -> Option<Claimed<T>> {
        while !self.head.is_null() {
            let s = self.head;
            // SAFETY: linked, hence alive; we hold the lock. An exclusive
            // entry's waiter can be claimed only here (`Sudog::exclusive`),
            // and we just unlinked it under the lock.
            unsafe {
                self.unlink(&*s);
                if (*s).exclusive {
                    (*(*s).waiter).claim_exclusive((*s).tag);
                    return Some(Claimed(s));
                }
                if (*(*s).waiter).try_claim((*s).tag) {
                    return Some(Claimed(s));
                }
            }
        }
        None
    }
}
