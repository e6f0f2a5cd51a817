//! `RwLock<T>`: a reader/writer lock that parks goroutines (Go's
//! `sync.RWMutex`, re-derived).
//!
//! State:
//! - `w`: a [`RawMutex`] writers take first, so writers queue among
//!   themselves (with the mutex's starvation mode).
//! - `reader_count`: readers holding or waiting for the lock. A writer
//!   subtracts `MAX_READERS`, so a negative count tells arriving readers
//!   "a writer is pending": they wait on `reader_sem`. **A waiting writer
//!   blocks new readers** (Go's rule): writers cannot be starved by a stream
//!   of readers.
//! - `reader_wait`: readers the pending writer still waits for (those that
//!   held the lock when it arrived); the last of them to leave releases
//!   `writer_sem`.
//!
//! Unlocking a writer adds `MAX_READERS` back, releases one `reader_sem`
//! unit per reader that queued meanwhile, then unlocks `w`.
//!
//! Must never: let a reader in while `reader_count < 0` except the ones
//! the writer's unlock admitted.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use super::mutex::RawMutex;
use super::sema::Sema;
use crate::WaitReason;

const MAX_READERS: i32 = 1 << 30;

/// A reader/writer lock protecting a `T` that parks goroutines (Go's
/// `sync.RWMutex`): any number of readers, or one writer.
///
/// A writer that is waiting keeps new readers out, so writers are not
/// starved; readers that already hold the lock finish first. Not
/// re-entrant: a goroutine that holds a read guard and asks for another
/// while a writer waits, deadlocks (as in Go).
///
/// Poisoning as for [`Mutex`](super::Mutex): a write guard dropped during a
/// panic unlocks and sets the advisory [`is_poisoned`](RwLock::is_poisoned)
/// flag; locking never fails.
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::RwLock;
///
/// let config = Arc::new(RwLock::new(String::from("v1")));
/// let c = config.clone();
/// weft::spawn(move || c.write().push_str("+patch")).join().unwrap();
/// assert_eq!(*config.read(), "v1+patch");
/// ```
pub struct RwLock<T: ?Sized> {
    w: RawMutex,
    writer_sem: Sema,
    reader_sem: Sema,
    reader_count: AtomicI32,
    reader_wait: AtomicI32,
    poison: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`), a writer gets
// `&mut T` possibly on another thread (needs `T: Send`), as std's RwLock.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new, unlocked lock. `const`, so it can be a `static`.
    ///
    /// ```
    /// let l = weft::sync::RwLock::new(5);
    /// assert_eq!(*l.read(), 5);
    /// ```
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            w: RawMutex::new(),
            writer_sem: Sema::new(0),
            reader_sem: Sema::new(0),
            reader_count: AtomicI32::new(0),
            reader_wait: AtomicI32::new(0),
            poison: AtomicBool::new(false),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    ///
    /// ```
    /// assert_eq!(weft::sync::RwLock::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, parking while a writer holds or waits for the lock.
    /// Wait reason: `sync.RWMutex.RLock`.
    ///
    /// ```
    /// let l = weft::sync::RwLock::new(1);
    /// let (a, b) = (l.read(), l.read()); // readers share
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        // SeqCst throughout, as Go's atomics: the counts are read-modify-
        // writes that pair with the writer's in `write` / `write_unlock`.
        if self.reader_count.fetch_add(1, Ordering::SeqCst) + 1 < 0 {
            // A writer is pending: wait for its unlock to admit us.
            self.reader_sem.acquire(false, WaitReason::SyncRWMutexRLock);
        }
        RwLockReadGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Locks for reading if no writer holds or waits for the lock.
    ///
    /// ```
    /// let l = weft::sync::RwLock::new(1);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let mut c = self.reader_count.load(Ordering::Relaxed);
        loop {
            if c < 0 {
                return None;
            }
            match self.reader_count.compare_exchange_weak(
                c,
                c + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Some(RwLockReadGuard {
                        lock: self,
                        _not_send: PhantomData,
                    })
                }
                Err(now) => c = now,
            }
        }
    }

    fn read_unlock(&self) {
        let r = self.reader_count.fetch_sub(1, Ordering::SeqCst) - 1;
        if r < 0 {
            if r + 1 == 0 || r + 1 == -MAX_READERS {
                crate::throw("sync: RUnlock of unlocked RWMutex");
            }
            // A writer is pending; the last reader it waits for wakes it.
            if self.reader_wait.fetch_sub(1, Ordering::SeqCst) - 1 == 0 {
                self.writer_sem.release(false);
            }
        }
    }

    /// Locks for writing: waits for other writers, keeps new readers out,
    /// then waits for the readers already in. Wait reason:
    /// `sync.RWMutex.Lock`.
    ///
    /// ```
    /// let l = weft::sync::RwLock::new(vec![]);
    /// l.write().push(1);
    /// assert_eq!(l.read().len(), 1);
    /// ```
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.w.lock(WaitReason::SyncRWMutexLock);
        // Announce the writer; `r` is the number of readers still inside.
        let r = self.reader_count.fetch_sub(MAX_READERS, Ordering::SeqCst);
        if r != 0 && self.reader_wait.fetch_add(r, Ordering::SeqCst) + r != 0 {
            self.writer_sem.acquire(false, WaitReason::SyncRWMutexLock);
        }
        RwLockWriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Locks for writing if nobody holds the lock right now.
    ///
    /// ```
    /// let l = weft::sync::RwLock::new(1);
    /// let r = l.read();
    /// assert!(l.try_write().is_none());
    /// drop(r);
    /// assert!(l.try_write().is_some());
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        if !self.w.try_lock() {
            return None;
        }
        if self
            .reader_count
            .compare_exchange(0, -MAX_READERS, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            self.w.unlock();
            return None;
        }
        Some(RwLockWriteGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    fn write_unlock(&self) {
        // Let readers in again.
        let r = self.reader_count.fetch_add(MAX_READERS, Ordering::SeqCst) + MAX_READERS;
        if r >= MAX_READERS {
            crate::throw("sync: Unlock of unlocked RWMutex");
        }
        // Admit the readers that queued while we held the lock.
        for _ in 0..r {
            self.reader_sem.release(false);
        }
        self.w.unlock();
    }

    /// Mutable access without locking.
    ///
    /// ```
    /// let mut l = weft::sync::RwLock::new(1);
    /// *l.get_mut() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether a write guard was dropped during a panic (advisory).
    ///
    /// ```
    /// assert!(!weft::sync::RwLock::new(()).is_poisoned());
    /// ```
    pub fn is_poisoned(&self) -> bool {
        self.poison.load(Ordering::Relaxed)
    }

    /// Forgets that a write guard was dropped during a panic.
    ///
    /// ```
    /// weft::sync::RwLock::new(()).clear_poison();
    /// ```
    pub fn clear_poison(&self) {
        self.poison.store(false, Ordering::Relaxed);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Shared access to an [`RwLock`]'s value; unlocks when dropped.
///
/// ```
/// let l = weft::sync::RwLock::new(1);
/// let g: weft::sync::RwLockReadGuard<'_, i32> = l.read();
/// assert_eq!(*g, 1);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a read guard only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: while a read guard lives no writer holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.read_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s value; unlocks when dropped (also
/// during a panic, setting the advisory poison flag).
///
/// ```
/// let l = weft::sync::RwLock::new(1);
/// let mut g: weft::sync::RwLockWriteGuard<'_, i32> = l.write();
/// *g = 2;
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a write guard only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write guard is the only access while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the write guard is the only access while it lives, and
        // `&mut self` makes this the only access through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.lock.poison.store(true, Ordering::Relaxed);
        }
        self.lock.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
