//! `Pool<T>`: a cache of reusable values with per-P caches (Go's
//! `sync.Pool`, without the garbage collector).
//!
//! Layout: one small cache per P (a std mutex around a `Vec`, padded to its
//! own cache lines), plus a shared overflow `Vec`.
//!
//! - `get`: pop from the current P's cache; else from the shared overflow;
//!   else try (without waiting) the other Ps' caches; else call `new`.
//! - `put`: push to the current P's cache; when it is full, to the shared
//!   overflow; when that is full too, drop the value.
//!
//! The per-P locks are almost never contended (only a thief or a goroutine
//! that was moved to another P mid-call touches another P's cache), so a
//! `get`/`put` pair costs two uncontended lock/unlock pairs. A lock is still
//! needed: weft cannot pin a goroutine to its P the way Go's `procPin`
//! does. Plain threads (no P) use the shared overflow.
//!
//! Go's pool is emptied by the GC; weft has none, so the pool is bounded
//! instead ([`LOCAL_CAP`] per P, [`SHARED_CAP`] shared) and values beyond
//! that are dropped.
//!
//! Must never: hand one value to two callers, or block (every lock here is
//! held for a push or a pop).

use crate::loom::sync::{StdMutex, StdMutexGuard};
use std::fmt;

/// Values cached per P.
pub const LOCAL_CAP: usize = 64;
/// Values cached in the shared overflow.
pub const SHARED_CAP: usize = 1024;

#[repr(align(128))]
struct Local<T> {
    items: StdMutex<Vec<T>>,
}

/// A set of interchangeable values to reuse instead of allocating anew (Go's
/// `sync.Pool`).
///
/// Make no assumption about the state of a value [`get`](Pool::get)
/// returns: it may be fresh from `new` or one somebody [`put`](Pool::put)
/// back. The pool keeps at most [`LOCAL_CAP`] values per P plus
/// [`SHARED_CAP`] shared ones and drops the rest (weft has no GC to empty
/// it).
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use weft::sync::Pool;
///
/// static CREATED: AtomicUsize = AtomicUsize::new(0);
/// let pool = Pool::new(|| {
///     CREATED.fetch_add(1, Ordering::Relaxed);
///     Vec::<u8>::with_capacity(1024)
/// });
/// let a = pool.get();
/// let _b = pool.get();
/// pool.put(a);
/// let _c = pool.get(); // reused
/// assert_eq!(CREATED.load(Ordering::Relaxed), 2);
/// ```
pub struct Pool<T> {
    new: Box<dyn Fn() -> T + Send + Sync>,
    locals: Box<[Local<T>]>,
    shared: StdMutex<Vec<T>>,
}

fn lock<T>(m: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    // Only pushes and pops happen under these locks: they cannot be
    // poisoned by user code; recover anyway.
    m.lock()
}

impl<T> Pool<T> {
    /// A pool that makes new values with `new` when it is empty.
    ///
    /// ```
    /// let pool = weft::sync::Pool::new(String::new);
    /// assert_eq!(pool.get(), "");
    /// ```
    pub fn new(new: impl Fn() -> T + Send + Sync + 'static) -> Pool<T> {
        let nprocs = if crate::sched::started() {
            crate::sched::runtime().maxprocs()
        } else {
            super::ncpu()
        };
        Pool {
            new: Box::new(new),
            locals: (0..nprocs.max(1))
                .map(|_| Local {
                    items: StdMutex::new(Vec::new()),
                })
                .collect(),
            shared: StdMutex::new(Vec::new()),
        }
    }

    fn local(&self) -> Option<&Local<T>> {
        let id = crate::sched::current_p_id()?;
        self.locals.get(id)
    }

    /// A value from the pool, or a new one.
    ///
    /// ```
    /// let pool = weft::sync::Pool::new(|| 7);
    /// assert_eq!(pool.get(), 7);
    /// ```
    pub fn get(&self) -> T {
        let me = self.local();
        if let Some(l) = me {
            if let Some(v) = lock(&l.items).pop() {
                return v;
            }
        }
        if let Some(v) = lock(&self.shared).pop() {
            return v;
        }
        // Steal from the other Ps, without waiting on a busy one.
        for l in self.locals.iter() {
            if me.is_some_and(|m| std::ptr::eq(m, l)) {
                continue;
            }
            if let Some(mut items) = l.items.try_lock() {
                if let Some(v) = items.pop() {
                    return v;
                }
            }
        }
        (self.new)()
    }

    /// Gives a value back for reuse.
    ///
    /// ```
    /// let pool = weft::sync::Pool::new(Vec::<u8>::new);
    /// let mut v = pool.get();
    /// v.clear();
    /// pool.put(v);
    /// ```
    pub fn put(&self, value: T) {
        let value = match self.local() {
            Some(l) => {
                let mut items = lock(&l.items);
                if items.len() < LOCAL_CAP {
                    items.push(value);
                    return;
                }
                value
            }
            None => value,
        };
        let mut shared = lock(&self.shared);
        if shared.len() < SHARED_CAP {
            shared.push(value);
        }
        // Else: drop it (outside the lock, after `shared` is released).
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("ps", &self.locals.len())
            .finish_non_exhaustive()
    }
}
