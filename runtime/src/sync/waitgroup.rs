//! `WaitGroup`: wait for a collection of goroutines to finish (Go's
//! `sync.WaitGroup`, re-derived).
//!
//! One 64-bit state word: the counter in the high 32 bits (signed), the
//! number of waiters in the low 32 bits; plus a [`Sema`] waiters park on.
//!
//! - `add(n)` adds `n << 32`. A negative counter panics ("sync: negative
//!   WaitGroup counter"). When the counter reaches zero with waiters, the
//!   adder resets the word to zero and releases one semaphore unit per
//!   waiter.
//! - `wait()` returns at once if the counter is zero; else it increments the
//!   waiter count with a CAS (so it cannot race with the reset) and parks on
//!   the semaphore.
//!
//! Misuse is reported as Go does: `add` racing with the last `wait`'s
//! wake-up ("WaitGroup misuse: Add called concurrently with Wait"), reuse
//! before `wait` returned.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use super::sema::Sema;
use crate::WaitReason;

/// Waits for a collection of goroutines to finish (Go's `sync.WaitGroup`).
///
/// The spawner calls [`add`](WaitGroup::add) with the number of goroutines,
/// each goroutine calls [`done`](WaitGroup::done) when it finishes, and
/// [`wait`](WaitGroup::wait) parks until all have.
///
/// **Sharing:** like Go's, a `WaitGroup` is one value that everybody
/// refers to; it is not `Clone`. Share it with an `Arc<WaitGroup>` (or a
/// `&'static` / `static`: [`new`](WaitGroup::new) is `const`).
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::WaitGroup;
///
/// let wg = Arc::new(WaitGroup::new());
/// for i in 1..=5 {
///     wg.add(1);
///     let wg = wg.clone();
///     weft::spawn(move || {
///         println!("worker {i} done");
///         wg.done();
///     });
/// }
/// wg.wait();
/// ```
pub struct WaitGroup {
    state: AtomicU64,
    sema: Sema,
}

const WAITERS_MASK: u64 = 0xFFFF_FFFF;

fn split(state: u64) -> (i32, u32) {
    ((state >> 32) as i32, state as u32)
}

impl WaitGroup {
    /// A wait group with a zero counter.
    ///
    /// ```
    /// static WG: weft::sync::WaitGroup = weft::sync::WaitGroup::new();
    /// WG.wait(); // counter is zero: returns at once
    /// ```
    pub const fn new() -> WaitGroup {
        WaitGroup {
            state: AtomicU64::new(0),
            sema: Sema::new(0),
        }
    }

    /// Adds `n` to the counter. Call it before starting the goroutines it
    /// counts (not inside them), as in Go.
    ///
    /// # Panics
    /// If the counter would exceed `i32::MAX`, or if `add` is called
    /// concurrently with the wake-up of `wait` (Go's misuse message).
    ///
    /// ```
    /// let wg = weft::sync::WaitGroup::new();
    /// wg.add(2);
    /// wg.done();
    /// wg.done();
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn add(&self, n: usize) {
        let Ok(n) = i32::try_from(n) else {
            panic!("sync: WaitGroup counter overflow");
        };
        self.add_delta(n);
    }

    /// Decrements the counter by one: this goroutine is finished.
    ///
    /// # Panics
    /// With "sync: negative WaitGroup counter" if the counter is already zero.
    ///
    /// ```
    /// let wg = weft::sync::WaitGroup::new();
    /// let r = std::panic::catch_unwind(|| wg.done());
    /// assert!(r.is_err());
    /// ```
    #[track_caller]
    pub fn done(&self) {
        self.add_delta(-1);
    }

    #[track_caller]
    fn add_delta(&self, delta: i32) {
        if delta == 0 {
            return;
        }
        let d = ((delta as i64) << 32) as u64;
        let state = self.state.fetch_add(d, Ordering::SeqCst).wrapping_add(d);
        let (v, w) = split(state);
        if v < 0 {
            // Put the counter back, so that a caller that catches the panic
            // does not leave a corrupt word behind for `wait`.
            self.state.fetch_sub(d, Ordering::SeqCst);
            if delta < 0 {
                panic!("sync: negative WaitGroup counter");
            }
            panic!("sync: WaitGroup counter overflow");
        }
        if w != 0 && delta > 0 && v == delta {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        if v > 0 || w == 0 {
            return;
        }
        // Counter is zero and there are waiters: nobody may change the word
        // now (a concurrent add would be the misuse above).
        if self.state.load(Ordering::SeqCst) != state {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        self.state.store(0, Ordering::SeqCst);
        for _ in 0..w {
            self.sema.release(false);
        }
    }

    /// Parks until the counter is zero. Wait reason: `sync.WaitGroup.Wait`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let wg = Arc::new(weft::sync::WaitGroup::new());
    /// wg.add(1);
    /// let w = wg.clone();
    /// std::thread::spawn(move || w.done()); // plain threads work too
    /// wg.wait();
    /// ```
    pub fn wait(&self) {
        let mut state = self.state.load(Ordering::SeqCst);
        loop {
            let (v, _) = split(state);
            if v == 0 {
                return;
            }
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {
                    self.sema.acquire(false, WaitReason::SyncWaitGroupWait);
                    if self.state.load(Ordering::SeqCst) & !WAITERS_MASK != 0 {
                        panic!("sync: WaitGroup is reused before previous Wait has returned");
                    }
                    return;
                }
                Err(now) => state = now,
            }
        }
    }

    /// The current counter (for diagnostics; racy by nature).
    ///
    /// ```
    /// let wg = weft::sync::WaitGroup::new();
    /// wg.add(3);
    /// assert_eq!(wg.count(), 3);
    /// # wg.done(); wg.done(); wg.done();
    /// ```
    pub fn count(&self) -> usize {
        split(self.state.load(Ordering::Relaxed)).0.max(0) as usize
    }
}

impl Default for WaitGroup {
    fn default() -> WaitGroup {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (v, w) = split(self.state.load(Ordering::Relaxed));
        f.debug_struct("WaitGroup")
            .field("count", &v)
            .field("waiters", &w)
            .finish()
    }
}
