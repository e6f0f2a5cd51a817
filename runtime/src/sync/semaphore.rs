//! `Semaphore`: a weighted semaphore that parks goroutines (Go's
//! `golang.org/x/sync/semaphore`, re-derived).
//!
//! State, behind one std mutex: `size` (fixed), `cur` (units held) and a
//! FIFO of [`Waiter`] nodes, each with the weight it asks for.
//!
//! - `acquire(n)`: if `n` units are free **and nobody is queued**, take them;
//!   else queue at the tail and park (the commit closure releases the lock).
//!   A waiter is woken only once its units have been granted to it, so the
//!   wake-up needs no re-check.
//! - `release(n)`: give back, then grant waiters from the head *in order*
//!   while the head's request fits, and stop at the first that does not.
//!   That is the FIFO rule that keeps a large request from being starved by
//!   a stream of small ones (a small request behind it waits too).
//!
//! Must never: grant past `size`, or wake a waiter without granting it.

use crate::loom::sync::{StdMutex, StdMutexGuard};
use std::collections::VecDeque;
use std::fmt;

use crate::waitq::{Waiter, WaiterPtr, WOKEN};
use crate::WaitReason;

/// A weighted semaphore: at most `size` units are held at once; each
/// acquirer asks for a number of units (x/sync's `semaphore.Weighted`).
///
/// Waiters are served in FIFO order, so a large request is not starved by
/// later small ones.
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::Semaphore;
///
/// let sem = Arc::new(Semaphore::new(3)); // at most 3 workers at once
/// let hs: Vec<_> = (0..10)
///     .map(|i| {
///         let sem = sem.clone();
///         weft::spawn(move || {
///             sem.acquire(1);
///             let r = i * 2; // work
///             sem.release(1);
///             r
///         })
///     })
///     .collect();
/// let total: i32 = hs.into_iter().map(|h| h.join().unwrap()).sum();
/// assert_eq!(total, 90);
/// ```
pub struct Semaphore {
    size: usize,
    state: StdMutex<State>,
}

struct State {
    cur: usize,
    waiters: VecDeque<WaiterPtr>,
}

impl Semaphore {
    /// A semaphore with `size` units, all free. `const`.
    ///
    /// ```
    /// let s = weft::sync::Semaphore::new(2);
    /// assert_eq!(s.available(), 2);
    /// ```
    pub const fn new(size: usize) -> Semaphore {
        Semaphore {
            size,
            state: StdMutex::new(State {
                cur: 0,
                waiters: VecDeque::new(),
            }),
        }
    }

    fn state(&self) -> StdMutexGuard<'_, State> {
        self.state.lock()
    }

    /// Takes `n` units, parking until they are free and every earlier
    /// waiter has been served. Wait reason: `semacquire`.
    ///
    /// # Panics
    /// If `n` exceeds the semaphore's size: such a request could never be
    /// granted (x/sync would block until its context is done).
    ///
    /// ```
    /// let s = weft::sync::Semaphore::new(4);
    /// s.acquire(3);
    /// assert_eq!(s.available(), 1);
    /// s.release(3);
    /// ```
    #[track_caller]
    pub fn acquire(&self, n: usize) {
        let mut st = self.state();
        if self.size - st.cur >= n && st.waiters.is_empty() {
            st.cur += n;
            return;
        }
        if n > self.size {
            drop(st);
            panic!(
                "sync: Semaphore::acquire({n}) exceeds the semaphore's size {}",
                self.size
            );
        }
        let w = Waiter::new(n);
        st.waiters.push_back(w.ptr());
        // Woken only once granted: no re-check.
        w.wait(WaitReason::Semacquire, move || drop(st));
    }

    /// Takes `n` units if they are free now and nobody is queued.
    ///
    /// ```
    /// let s = weft::sync::Semaphore::new(2);
    /// assert!(s.try_acquire(2));
    /// assert!(!s.try_acquire(1));
    /// s.release(2);
    /// ```
    pub fn try_acquire(&self, n: usize) -> bool {
        let mut st = self.state();
        if self.size - st.cur >= n && st.waiters.is_empty() {
            st.cur += n;
            true
        } else {
            false
        }
    }

    /// Gives back `n` units and grants queued waiters, in order, while the
    /// head's request fits.
    ///
    /// # Panics
    /// If more units are released than are held.
    ///
    /// ```
    /// let s = weft::sync::Semaphore::new(1);
    /// s.acquire(1);
    /// s.release(1);
    /// assert_eq!(s.available(), 1);
    /// ```
    #[track_caller]
    pub fn release(&self, n: usize) {
        let mut st = self.state();
        if n > st.cur {
            drop(st);
            panic!("sync: Semaphore released more than held");
        }
        st.cur -= n;
        while let Some(&w) = st.waiters.front() {
            // SAFETY: `w` is still queued, so its node is alive.
            let want = unsafe { w.weight() };
            if self.size - st.cur < want {
                // Not enough for the head: stop here (FIFO), so a large
                // request is not overtaken by smaller ones behind it.
                break;
            }
            st.cur += want;
            st.waiters.pop_front();
            // SAFETY: popped under the lock; woken once.
            unsafe { w.wake(WOKEN) };
        }
    }

    /// Units free right now (racy by nature; for diagnostics and tests).
    ///
    /// ```
    /// assert_eq!(weft::sync::Semaphore::new(5).available(), 5);
    /// ```
    pub fn available(&self) -> usize {
        self.size - self.state().cur
    }

    /// The semaphore's size.
    ///
    /// ```
    /// assert_eq!(weft::sync::Semaphore::new(5).size(), 5);
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state();
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("held", &st.cur)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}
