//! A counting semaphore that parks goroutines: the runtime half of Go's
//! `sema.go` (`semacquire1`/`semrelease1`), under [`Mutex`](super::Mutex),
//! [`RwLock`](super::RwLock) and [`WaitGroup`](super::WaitGroup).
//!
//! State: `count` (units available), `nwait` (waiters queued or about to
//! be), and a FIFO queue of [`Waiter`] nodes behind a std mutex.
//!
//! - `acquire`: take a unit with one CAS if `count > 0`; else lock the queue,
//!   announce ourselves in `nwait`, re-check `count` (a release may have come
//!   in between), queue (at the back, or at the front for `lifo` — a mutex
//!   waiter that was woken and lost the race goes back to the head, as in
//!   Go), and park, the commit closure releasing the queue lock. Woken with
//!   [`HANDOFF`] means the unit was taken for us; with [`WOKEN`] we compete
//!   for it again.
//! - `release`: add a unit; if `nwait` is zero nobody can be waiting, done
//!   (SeqCst on both sides: the waiter increments `nwait` and then reads
//!   `count`, the releaser increments `count` and then reads `nwait`, so one
//!   of them sees the other). Else pop the head waiter and wake it. With
//!   `handoff`, take the unit on the waiter's behalf first and then yield, so
//!   the waiter runs at once and nobody can barge in (starvation mode).
//!
//! No wake-up is lost: a waiter is queued under the queue lock before it
//! parks, and the park primitive keeps a token for a wake that arrives
//! before the goroutine is off its stack.

use crate::loom::sync::{StdMutex, StdMutexGuard};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::waitq::{Waiter, WaiterPtr, HANDOFF};
use crate::WaitReason;

pub(crate) struct Sema {
    count: AtomicU32,
    nwait: AtomicU32,
    queue: StdMutex<VecDeque<WaiterPtr>>,
}

impl Sema {
    pub(crate) const fn new(count: u32) -> Sema {
        Sema {
            count: AtomicU32::new(count),
            nwait: AtomicU32::new(0),
            queue: StdMutex::new(VecDeque::new()),
        }
    }

    fn queue(&self) -> StdMutexGuard<'_, VecDeque<WaiterPtr>> {
        // The queue lock is never held while user code runs, so it cannot be
        // poisoned by a user panic; recover anyway rather than cascade.
        self.queue.lock()
    }

    /// Go's `cansemacquire`.
    fn try_acquire(&self) -> bool {
        let mut c = self.count.load(Ordering::SeqCst);
        while c > 0 {
            match self
                .count
                .compare_exchange_weak(c, c - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
        false
    }

    /// Takes one unit, parking with `reason` until one is available.
    pub(crate) fn acquire(&self, lifo: bool, reason: WaitReason) {
        if self.try_acquire() {
            return;
        }
        loop {
            let mut q = self.queue();
            self.nwait.fetch_add(1, Ordering::SeqCst);
            if self.try_acquire() {
                self.nwait.fetch_sub(1, Ordering::SeqCst);
                return;
            }
            let w = Waiter::new(0);
            if lifo {
                q.push_front(w.ptr());
            } else {
                q.push_back(w.ptr());
            }
            // The releaser decremented `nwait` when it popped us.
            let how = w.wait(reason, move || drop(q));
            if how == HANDOFF || self.try_acquire() {
                return;
            }
        }
    }

    /// Adds one unit and wakes the head waiter, if any. With `handoff`, the
    /// unit goes straight to that waiter and the caller yields to it.
    pub(crate) fn release(&self, handoff: bool) {
        self.count.fetch_add(1, Ordering::SeqCst);
        if self.nwait.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut q = self.queue();
        if self.nwait.load(Ordering::SeqCst) == 0 {
            return;
        }
        let Some(w) = q.pop_front() else {
            return;
        };
        self.nwait.fetch_sub(1, Ordering::SeqCst);
        drop(q);
        let handed = handoff && self.try_acquire();
        // SAFETY: we popped `w` under the queue lock and wake it once.
        unsafe { w.wake(if handed { HANDOFF } else { crate::waitq::WOKEN }) };
        if handed {
            super::handoff_yield();
        }
    }
}
