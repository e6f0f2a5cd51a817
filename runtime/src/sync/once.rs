//! `Once` and `OnceLock<T>`: one-time initialisation that parks goroutines
//! waiting for it (Go's `sync.Once`, and std's `OnceLock` shape).
//!
//! Both are a `done` flag and a [`RawMutex`], as Go's `Once`: the fast path
//! is one Acquire load of `done`; the slow path locks, re-checks, runs the
//! initialiser, stores `done` (Release, pairs with the fast path's load) and
//! unlocks. Callers that arrive meanwhile park on the mutex (wait reason
//! `semacquire`).
//!
//! If the initialiser panics, the mutex is unlocked on unwind, so nobody
//! hangs. Then `Once` counts as done (Go's rule: `defer o.done.Store(1)`),
//! while `OnceLock` stays empty (there is no value to hand out) and the
//! next caller runs its initialiser.
//!
//! Must never: run two initialisers at once, or expose the value before
//! `done` is set.

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, Ordering};

use super::mutex::RawMutex;
use crate::WaitReason;

/// Unlocks on drop, also during unwinding.
struct Unlock<'a>(&'a RawMutex);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}

/// Runs a function exactly once, however many goroutines call it (Go's
/// `sync.Once`). Goroutines that call while the function runs park until
/// it has finished.
///
/// If the function panics, the `Once` counts as done (as in Go): later
/// calls return at once without running theirs.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use weft::sync::Once;
///
/// static ONCE: Once = Once::new();
/// let count = Arc::new(AtomicU32::new(0));
/// let hs: Vec<_> = (0..10)
///     .map(|_| {
///         let c = count.clone();
///         weft::spawn(move || ONCE.call_once(|| { c.fetch_add(1, Ordering::Relaxed); }))
///     })
///     .collect();
/// hs.into_iter().for_each(|h| h.join().unwrap());
/// assert_eq!(count.load(Ordering::Relaxed), 1);
/// ```
pub struct Once {
    done: AtomicBool,
    m: RawMutex,
}

impl Once {
    /// A `Once` that has not run. `const`, so it can be a `static`.
    ///
    /// ```
    /// let once = weft::sync::Once::new();
    /// assert!(!once.is_completed());
    /// ```
    pub const fn new() -> Once {
        Once {
            done: AtomicBool::new(false),
            m: RawMutex::new(),
        }
    }

    /// Runs `f` if no call has run (or is running) one yet; otherwise waits
    /// for that call to finish. Only the number of calls matters, not which
    /// function is passed (Go's note).
    ///
    /// ```
    /// let once = weft::sync::Once::new();
    /// let mut count = 0;
    /// once.call_once(|| count += 1);
    /// once.call_once(|| count -= 1); // not run
    /// assert_eq!(count, 1);
    /// ```
    #[inline]
    pub fn call_once(&self, f: impl FnOnce()) {
        // Acquire: pairs with the Release store in `call_slow`.
        if self.done.load(Ordering::Acquire) {
            return;
        }
        self.call_slow(f);
    }

    #[cold]
    fn call_slow(&self, f: impl FnOnce()) {
        self.m.lock(WaitReason::Semacquire);
        let _unlock = Unlock(&self.m);
        if !self.done.load(Ordering::Relaxed) {
            struct SetDone<'a>(&'a AtomicBool);
            impl Drop for SetDone<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Release);
                }
            }
            let _set = SetDone(&self.done);
            f();
        }
    }

    /// Whether a call has completed (or panicked).
    ///
    /// ```
    /// let once = weft::sync::Once::new();
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

impl Default for Once {
    fn default() -> Once {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("done", &self.is_completed())
            .finish()
    }
}

/// A cell written at most once, whose initialisation parks goroutines that
/// wait for it (std's `OnceLock`, on weft's parking).
///
/// ```
/// use weft::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// let h = weft::spawn(|| CONFIG.get_or_init(|| "loaded".to_string()).len());
/// assert_eq!(h.join().unwrap(), 6);
/// assert_eq!(CONFIG.get().map(String::as_str), Some("loaded"));
/// ```
pub struct OnceLock<T> {
    done: AtomicBool,
    m: RawMutex,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, under the mutex, before `done` is set
// (Release); readers only read it after seeing `done` (Acquire). Sharing
// hands out `&T` (needs `Sync`) and lets any thread write it (needs `Send`).
unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}
// SAFETY: owning the cell is owning the `T`.
unsafe impl<T: Send> Send for OnceLock<T> {}

impl<T> OnceLock<T> {
    /// An empty cell. `const`, so it can be a `static`.
    ///
    /// ```
    /// let c = weft::sync::OnceLock::<u8>::new();
    /// assert!(c.get().is_none());
    /// ```
    pub const fn new() -> OnceLock<T> {
        OnceLock {
            done: AtomicBool::new(false),
            m: RawMutex::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if it has been set.
    ///
    /// ```
    /// let c = weft::sync::OnceLock::new();
    /// c.set(1).unwrap();
    /// assert_eq!(c.get(), Some(&1));
    /// ```
    #[inline]
    pub fn get(&self) -> Option<&T> {
        // Acquire: pairs with the Release store in `init`.
        if self.done.load(Ordering::Acquire) {
            // SAFETY: `done` is set only after the value was written, and the
            // value is never written again.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, initialising it with `f` if it is empty. Goroutines that
    /// arrive while another initialises park until it is done. If `f`
    /// panics, the cell stays empty and the next caller tries again.
    ///
    /// ```
    /// let c = weft::sync::OnceLock::new();
    /// assert_eq!(*c.get_or_init(|| 1), 1);
    /// assert_eq!(*c.get_or_init(|| 2), 1);
    /// ```
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        if let Some(v) = self.get() {
            return v;
        }
        let mut f = Some(f);
        self.init(&mut || f.take().map(|f| f()));
        self.get().expect("OnceLock initialised")
    }

    /// Sets the value if the cell is empty; otherwise gives `value` back.
    ///
    /// ```
    /// let c = weft::sync::OnceLock::new();
    /// assert_eq!(c.set(1), Ok(()));
    /// assert_eq!(c.set(2), Err(2));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.init(&mut || value.take());
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// Runs `make` under the lock if the cell is still empty, and stores
    /// what it returns.
    #[cold]
    fn init(&self, make: &mut dyn FnMut() -> Option<T>) {
        self.m.lock(WaitReason::Semacquire);
        let _unlock = Unlock(&self.m);
        if !self.done.load(Ordering::Relaxed) {
            if let Some(v) = make() {
                // SAFETY: we hold the mutex and `done` is clear, so nobody
                // reads or writes the slot.
                unsafe { (*self.value.get()).write(v) };
                self.done.store(true, Ordering::Release);
            }
        }
    }

    /// Mutable access to the value, if set.
    ///
    /// ```
    /// let mut c = weft::sync::OnceLock::new();
    /// c.set(1).unwrap();
    /// *c.get_mut().unwrap() += 1;
    /// assert_eq!(c.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if *self.done.get_mut() {
            // SAFETY: set, and `&mut self` excludes every other access.
            Some(unsafe { self.value.get_mut().assume_init_mut() })
        } else {
            None
        }
    }

    /// Consumes the cell and returns the value, if set.
    ///
    /// ```
    /// let c = weft::sync::OnceLock::new();
    /// c.set("x").unwrap();
    /// assert_eq!(c.into_inner(), Some("x"));
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        if std::mem::replace(self.done.get_mut(), false) {
            // SAFETY: set; clearing `done` first keeps `Drop` from dropping
            // the value a second time.
            Some(unsafe { self.value.get_mut().assume_init_read() })
        } else {
            None
        }
    }
}

impl<T> Drop for OnceLock<T> {
    fn drop(&mut self) {
        if *self.done.get_mut() {
            // SAFETY: set, and this is the last access.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Some(v) => f.debug_tuple("OnceLock").field(v).finish(),
            None => f.write_str("OnceLock(<uninit>)"),
        }
    }
}

impl<T> From<T> for OnceLock<T> {
    fn from(v: T) -> OnceLock<T> {
        let c = OnceLock::new();
        let _ = c.set(v);
        c
    }
}
