//! `Mutex<T>`: a mutual-exclusion lock that parks goroutines, with Go's
//! normal and starvation modes (Go's `sync/mutex.go`, re-derived).
//!
//! Owns: [`RawMutex`], the state word and its semaphore, and the guard-based
//! [`Mutex<T>`] over it. The raw lock is also the writer lock of
//! [`RwLock`](super::RwLock) and the lock inside [`Once`](super::Once).
//!
//! # The state word (`i32`)
//!
//! ```text
//!   bit 0  LOCKED    someone owns the mutex
//!   bit 1  WOKEN     a waiter has been woken (or a spinner is about to take
//!                    it): unlock need not wake another
//!   bit 2  STARVING  starvation mode: ownership is handed to the head waiter
//!   bits 3..         number of goroutines waiting on the semaphore
//! ```
//!
//! *Normal mode*: waiters queue FIFO, but a woken waiter competes with
//! goroutines that are just arriving (and have the CPU), so it often loses;
//! it then goes back to the *head* of the queue. Arrivals may spin briefly
//! (at most 4 × 30 pause instructions, and only when another P is running
//! and our own run queue is empty: spinning on one P only delays the
//! holder).
//!
//! *Starvation mode*: a waiter that has waited more than 1 ms sets
//! `STARVING`. Unlock then hands ownership directly to the head waiter (the
//! semaphore's hand-off, plus a yield so it runs at once); arrivals do not
//! take the lock nor spin, they queue at the tail. The waiter that receives
//! the lock leaves starvation mode if it is the last waiter or waited less
//! than 1 ms. Normal mode is much faster (a goroutine can re-take the lock
//! many times in a row); starvation mode bounds the tail latency.
//!
//! Must never: block an OS thread that runs goroutines (waiting goes through
//! [`Sema`], which parks), or read the guarded value without owning `LOCKED`
//! (or, in starvation mode, the hand-off).

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::sema::Sema;
use crate::WaitReason;

const LOCKED: i32 = 1;
const WOKEN: i32 = 2;
const STARVING: i32 = 4;
const WAITER_SHIFT: u32 = 3;
const WAITER: i32 = 1 << WAITER_SHIFT;
/// A waiter blocked longer than this switches the mutex to starvation mode.
pub(crate) const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);
/// Spin rounds before queueing (Go's `active_spin`).
const ACTIVE_SPIN: u32 = 4;
/// Pause instructions per spin round (Go's `active_spin_cnt`).
const ACTIVE_SPIN_CNT: u32 = 30;

/// The lock without the data: the state word and the semaphore waiters
/// park on.
pub(crate) struct RawMutex {
    state: AtomicI32,
    sema: Sema,
}

impl RawMutex {
    pub(crate) const fn new() -> RawMutex {
        RawMutex {
            state: AtomicI32::new(0),
            sema: Sema::new(0),
        }
    }

    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        let mut old = self.state.load(Ordering::Relaxed);
        loop {
            if old & (LOCKED | STARVING) != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                old,
                old | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => old = now,
            }
        }
    }

    /// Locks, parking with `reason` while another owner holds the lock.
    #[inline]
    pub(crate) fn lock(&self, reason: WaitReason) {
        // Fast path: one CAS on an unlocked, uncontended mutex.
        if self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        self.lock_slow(reason);
    }

    #[cold]
    fn lock_slow(&self, reason: WaitReason) {
        let mut wait_start: Option<Instant> = None;
        let mut starving = false;
        let mut awoke = false;
        let mut iter = 0;
        let mut old = self.state.load(Ordering::Relaxed);
        loop {
            // Spin only in normal mode while locked: in starvation mode the
            // lock goes to the head waiter anyway.
            if old & (LOCKED | STARVING) == LOCKED && can_spin(iter) {
                // Set WOKEN so unlock does not wake a waiter we will beat.
                if !awoke
                    && old & WOKEN == 0
                    && old >> WAITER_SHIFT != 0
                    && self
                        .state
                        .compare_exchange(old, old | WOKEN, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    awoke = true;
                }
                for _ in 0..ACTIVE_SPIN_CNT {
                    std::hint::spin_loop();
                }
                iter += 1;
                old = self.state.load(Ordering::Relaxed);
                continue;
            }
            let mut new = old;
            // Do not take a starving mutex: arrivals queue.
            if old & STARVING == 0 {
                new |= LOCKED;
            }
            if old & (LOCKED | STARVING) != 0 {
                new += WAITER;
            }
            // Switch to starvation mode, but only if the mutex is locked:
            // unlock expects a starving mutex to have waiters.
            if starving && old & LOCKED != 0 {
                new |= STARVING;
            }
            if awoke {
                if new & WOKEN == 0 {
                    crate::throw("sync: inconsistent mutex state");
                }
                new &= !WOKEN;
            }
            match self
                .state
                .compare_exchange(old, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => {
                    if old & (LOCKED | STARVING) == 0 {
                        return; // took it with the CAS
                    }
                    // A waiter that was woken and lost goes back to the head.
                    let lifo = wait_start.is_some();
                    let start = *wait_start.get_or_insert_with(Instant::now);
                    self.sema.acquire(lifo, reason);
                    starving = starving || start.elapsed() > STARVATION_THRESHOLD;
                    old = self.state.load(Ordering::Acquire);
                    if old & STARVING != 0 {
                        // Handed off to us: LOCKED is clear and we are still
                        // counted as a waiter. Fix both in one add.
                        if old & (LOCKED | WOKEN) != 0 || old >> WAITER_SHIFT == 0 {
                            crate::throw("sync: inconsistent mutex state");
                        }
                        let mut delta = LOCKED - WAITER;
                        if !starving || old >> WAITER_SHIFT == 1 {
                            // Leave starvation mode: it is slow, and two
                            // goroutines could otherwise lock-step in it.
                            delta -= STARVING;
                        }
                        self.state.fetch_add(delta, Ordering::Acquire);
                        return;
                    }
                    awoke = true;
                    iter = 0;
                }
                Err(now) => old = now,
            }
        }
    }

    /// Unlocks.
    ///
    /// Aborts the process (Go's `fatal`) if the mutex is not locked: that is
    /// a broken invariant, and unwinding from here would leave waiters hung.
    #[inline]
    pub(crate) fn unlock(&self) {
        let new = self.state.fetch_sub(LOCKED, Ordering::Release) - LOCKED;
        if new != 0 {
            self.unlock_slow(new);
        }
    }

    #[cold]
    fn unlock_slow(&self, new: i32) {
        if (new + LOCKED) & LOCKED == 0 {
            crate::throw("sync: unlock of unlocked mutex");
        }
        if new & STARVING == 0 {
            let mut old = new;
            loop {
                // No waiters, or someone already woken / holding / starving:
                // nobody to wake.
                if old >> WAITER_SHIFT == 0 || old & (LOCKED | WOKEN | STARVING) != 0 {
                    return;
                }
                // Take the right to wake one waiter.
                let new = (old - WAITER) | WOKEN;
                match self
                    .state
                    .compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => {
                        self.sema.release(false);
                        return;
                    }
                    Err(now) => old = now,
                }
            }
        } else {
            // Starvation mode: hand the lock to the head waiter and yield to
            // it. LOCKED stays clear; STARVING keeps arrivals out.
            self.sema.release(true);
        }
    }
}

/// Go's `sync_runtime_canSpin`: spin only a few rounds, on a multicore
/// machine, while another P is running (it may be the holder) and our own P
/// has nothing else queued.
fn can_spin(iter: u32) -> bool {
    if iter >= ACTIVE_SPIN || super::ncpu() <= 1 {
        return false;
    }
    crate::sched::can_spin()
}

/// A mutual-exclusion lock protecting a `T`, that parks goroutines while it
/// waits (Go's `sync.Mutex`, with its starvation mode).
///
/// Locking returns a [`MutexGuard`]; dropping the guard unlocks. The lock
/// also works between plain threads, and between threads and goroutines.
///
/// **No poisoning in the way.** A goroutine that panics while holding the
/// guard unlocks the mutex as it unwinds, so other goroutines never hang;
/// [`lock`](Mutex::lock) always succeeds (as in Go). The next locker *can*
/// tell, if it cares: [`is_poisoned`](Mutex::is_poisoned) reports that a
/// guard was dropped during a panic, and
/// [`clear_poison`](Mutex::clear_poison) resets that.
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::Mutex;
///
/// let count = Arc::new(Mutex::new(0));
/// let hs: Vec<_> = (0..4)
///     .map(|_| {
///         let count = count.clone();
///         weft::spawn(move || {
///             for _ in 0..100 {
///                 *count.lock() += 1;
///             }
///         })
///     })
///     .collect();
/// for h in hs {
///     h.join().unwrap();
/// }
/// assert_eq!(*count.lock(), 400);
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawMutex,
    poison: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one owner at a time, so it
// can be shared between threads when `T` can be sent between them (as std's).
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: owning the mutex is owning the `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex. `const`, so it can be a `static`.
    ///
    /// ```
    /// static M: weft::sync::Mutex<u32> = weft::sync::Mutex::new(0);
    /// *M.lock() += 1;
    /// assert_eq!(*M.lock(), 1);
    /// ```
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            poison: AtomicBool::new(false),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    ///
    /// ```
    /// let m = weft::sync::Mutex::new(String::from("x"));
    /// assert_eq!(m.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, parking the goroutine (or blocking the plain thread)
    /// until it is free. Wait reason: `sync.Mutex.Lock`.
    ///
    /// Not re-entrant: locking a mutex the caller already holds waits
    /// forever (as in Go).
    ///
    /// ```
    /// let m = weft::sync::Mutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(*m.lock(), [1, 2]);
    /// ```
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.lock(WaitReason::SyncMutexLock);
        MutexGuard::new(self)
    }

    /// Locks the mutex if it is free right now (Go's `TryLock`).
    ///
    /// ```
    /// let m = weft::sync::Mutex::new(1);
    /// let g = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_lock().then(|| MutexGuard::new(self))
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds
    /// the mutex.
    ///
    /// ```
    /// let mut m = weft::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether a guard of this mutex was dropped while its goroutine or
    /// thread was panicking (the data may be half-updated). Advisory only:
    /// locking still succeeds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(weft::sync::Mutex::new(0));
    /// let m2 = m.clone();
    /// let r = weft::spawn(move || {
    ///     let _g = m2.lock();
    ///     panic!("boom");
    /// })
    /// .join();
    /// assert!(r.is_err());
    /// assert!(m.is_poisoned()); // and yet:
    /// *m.lock() += 1;
    /// ```
    pub fn is_poisoned(&self) -> bool {
        self.poison.load(Ordering::Relaxed)
    }

    /// Forgets that a guard was dropped during a panic.
    ///
    /// ```
    /// let m = weft::sync::Mutex::new(0);
    /// m.clear_poison();
    /// assert!(!m.is_poisoned());
    /// ```
    pub fn clear_poison(&self) {
        self.poison.store(false, Ordering::Relaxed);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(v: T) -> Mutex<T> {
        Mutex::new(v)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Proof of owning a [`Mutex`]; gives access to the value and unlocks when
/// dropped (also when dropped by a panic's unwinding).
///
/// ```
/// let m = weft::sync::Mutex::new(1);
/// {
///     let mut g = m.lock();
///     *g += 1;
/// } // unlocked here
/// assert_eq!(*m.lock(), 2);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    pub(crate) mutex: &'a Mutex<T>,
    /// `!Send`, as std's guard: a guard stays with the goroutine that locked.
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a guard only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    pub(crate) fn new(mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        MutexGuard {
            mutex,
            _not_send: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this owner holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this owner holds the lock, and
        // `&mut self` makes this the only access through it.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.mutex.poison.store(true, Ordering::Relaxed);
        }
        self.mutex.raw.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
