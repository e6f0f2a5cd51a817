//! `Cond`: a condition variable over a [`Mutex`] guard, that parks
//! goroutines (Go's `sync.Cond`, in std's `Condvar` shape).
//!
//! State: a FIFO of [`Waiter`] nodes behind a std mutex. `wait` queues its
//! node *before* it unlocks the user's mutex, so a `signal` made after the
//! waiter's condition check (under the user's mutex) always finds the node;
//! then it unlocks, parks until a signaller has popped and woken the node,
//! and locks again. (Go gets the same ordering from the tickets of its
//! `notifyList`.) `signal` pops and wakes the head; `broadcast` takes the
//! whole queue.
//!
//! Must never: wake a node it has not popped, or keep the queue lock while
//! waiting for the user's mutex.

use crate::loom::sync::{StdMutex, StdMutexGuard};
use std::collections::VecDeque;
use std::fmt;

use super::mutex::MutexGuard;
use crate::waitq::{Waiter, WaiterPtr, WOKEN};
use crate::WaitReason;

/// A condition variable: goroutines wait on it for an event that another
/// goroutine announces (Go's `sync.Cond`).
///
/// Waiting takes the guard of a [`Mutex`](super::Mutex) and returns it
/// re-locked, as std's `Condvar`. As always with condition variables, wait
/// in a loop that re-checks the condition (or use
/// [`wait_while`](Cond::wait_while)).
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::{Cond, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Cond::new()));
/// let p = pair.clone();
/// weft::spawn(move || {
///     *p.0.lock() = true;
///     p.1.signal();
/// });
/// let (ready, cond) = &*pair;
/// let mut g = ready.lock();
/// while !*g {
///     g = cond.wait(g);
/// }
/// ```
pub struct Cond {
    queue: StdMutex<VecDeque<WaiterPtr>>,
}

impl Cond {
    /// A condition variable with no waiters. `const`.
    ///
    /// ```
    /// static C: weft::sync::Cond = weft::sync::Cond::new();
    /// C.broadcast(); // nobody waits: nothing happens
    /// ```
    pub const fn new() -> Cond {
        Cond {
            queue: StdMutex::new(VecDeque::new()),
        }
    }

    fn queue(&self) -> StdMutexGuard<'_, VecDeque<WaiterPtr>> {
        self.queue.lock()
    }

    /// Unlocks the guard's mutex, parks until [`signal`](Cond::signal) or
    /// [`broadcast`](Cond::broadcast) wakes this goroutine, locks the mutex
    /// again and returns its guard. Wait reason: `sync.Cond.Wait`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::{Cond, Mutex};
    ///
    /// let st = Arc::new((Mutex::new(0), Cond::new()));
    /// let s = st.clone();
    /// let h = weft::spawn(move || {
    ///     let mut g = s.0.lock();
    ///     while *g == 0 {
    ///         g = s.1.wait(g);
    ///     }
    ///     *g
    /// });
    /// *st.0.lock() = 5;
    /// st.1.broadcast();
    /// assert_eq!(h.join().unwrap(), 5);
    /// ```
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = guard.mutex;
        let w = Waiter::new(0);
        self.queue().push_back(w.ptr());
        // Unlock through the guard (so a panic poison flag is handled the
        // usual way), then wait for our node to be woken.
        drop(guard);
        w.wait(WaitReason::SyncCondWait, || {});
        mutex.lock()
    }

    /// Waits while `condition` holds: `wait` in the usual loop.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::{Cond, Mutex};
    ///
    /// let st = Arc::new((Mutex::new(Vec::<u32>::new()), Cond::new()));
    /// let s = st.clone();
    /// weft::spawn(move || {
    ///     s.0.lock().push(1);
    ///     s.1.signal();
    /// });
    /// let g = st.1.wait_while(st.0.lock(), |q| q.is_empty());
    /// assert_eq!(*g, [1]);
    /// ```
    pub fn wait_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut *guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Wakes the goroutine that has waited longest, if any (Go's `Signal`).
    /// Holding the mutex while signalling is allowed, not required.
    ///
    /// ```
    /// weft::sync::Cond::new().signal();
    /// ```
    pub fn signal(&self) {
        let w = self.queue().pop_front();
        if let Some(w) = w {
            // SAFETY: popped under the queue lock; woken once.
            unsafe { w.wake(WOKEN) };
        }
    }

    /// Wakes every waiting goroutine (Go's `Broadcast`).
    ///
    /// ```
    /// weft::sync::Cond::new().broadcast();
    /// ```
    pub fn broadcast(&self) {
        let all = std::mem::take(&mut *self.queue());
        for w in all {
            // SAFETY: taken from the queue under its lock; each woken once.
            unsafe { w.wake(WOKEN) };
        }
    }
}

impl Default for Cond {
    fn default() -> Cond {
        Cond::new()
    }
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cond")
            .field("waiters", &self.queue().len())
            .finish()
    }
}
