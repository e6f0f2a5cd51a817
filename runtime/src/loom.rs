//! The sync shim: where the runtime's lock-free parts get their atomics,
//! cells, locks and thread parking — std's in normal builds, loom's under
//! `--cfg loom`, so that `runtime/tests/loom.rs` can model-check the real
//! protocols (tokio's loom module is the model for this one).
//!
//! Owns: nothing but names, and the non-poisoning lock wrapper the rest of
//! the runtime uses instead of `lock().unwrap_or_else(|e| e.into_inner())`:
//! [`sync::StdMutex`] for every lock, [`sync::Mutex`] (the same wrapper
//! over loom's lock under loom) for the locks of modelled protocols and
//! under `crate::lockrank`'s ranked locks (with [`sync::Condvar`]).
//!
//! What goes through here: the state words modelled under loom
//! (`g::ParkWord`, `g::Life`, `park::Waiter` and the thread parker,
//! `sched::idle`'s counters and list lock, the P slot's spin lock, the
//! netpoller's hand-off words in `netpoll::handoff`, sysmon's sleep words
//! in `sched::sysmon`, a static made with `lazy_static` under loom). What
//! does not: statics and `const fn` constructors (loom's types cannot be
//! built in a const: they use [`sync::StdMutex`] and `std::sync::atomic`),
//! and everything the models never run.
//!
//! Must never: use another module of this crate (it is the bottom layer),
//! or cost anything in a normal build (every item is a re-export or an
//! `#[inline]` newtype).

pub(crate) mod sync {
    //! Atomics and locks.

    pub(crate) mod atomic {
        //! std's atomics, or loom's.
        #[cfg(loom)]
        pub(crate) use ::loom::sync::atomic::{
            fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
        #[cfg(not(loom))]
        pub(crate) use std::sync::atomic::{
            fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering,
        };
    }

    #[cfg(loom)]
    pub(crate) use ::loom::sync::{Condvar, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Condvar, MutexGuard};

    /// Defines a lock wrapper without poisoning over `$inner`. The runtime
    /// never leaves a lock's data half-updated across a panic (its critical
    /// sections run no user code), so a poisoned lock is as good as any.
    macro_rules! non_poisoning {
        ($(#[$m:meta])* $name:ident, $inner:ty, $guard:ident $(, $const:ident)?) => {
            $(#[$m])*
            #[derive(Default)]
            pub(crate) struct $name<T: ?Sized>($inner);

            impl<T> $name<T> {
                /// A new lock around `value`.
                #[inline]
                pub(crate) $($const)? fn new(value: T) -> Self {
                    $name(<$inner>::new(value))
                }

                /// The value, lock consumed.
                #[allow(dead_code)]
                pub(crate) fn into_inner(self) -> T {
                    self.0.into_inner().unwrap_or_else(|e| e.into_inner())
                }
            }

            impl<T: ?Sized> $name<T> {
                /// Locks, ignoring poison.
                #[inline]
                pub(crate) fn lock(&self) -> $guard<'_, T> {
                    self.0.lock().unwrap_or_else(|e| e.into_inner())
                }

                /// Locks if nobody holds the lock, ignoring poison.
                #[allow(dead_code)]
                #[inline]
                pub(crate) fn try_lock(&self) -> Option<$guard<'_, T>> {
                    match self.0.try_lock() {
                        Ok(g) => Some(g),
                        Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                        Err(std::sync::TryLockError::WouldBlock) => None,
                    }
                }

                /// The value, through `&mut` (no locking needed).
                #[allow(dead_code)]
                pub(crate) fn get_mut(&mut self) -> &mut T {
                    self.0.get_mut().unwrap_or_else(|e| e.into_inner())
                }
            }

            impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $name<T> {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    self.0.fmt(f)
                }
            }
        };
    }

    #[cfg(not(loom))]
    non_poisoning!(
        /// The lock of a protocol the loom models run: std's `Mutex`
        /// without poisoning, loom's under `--cfg loom` (where `new` is not
        /// `const`).
        Mutex,
        std::sync::Mutex<T>,
        MutexGuard,
        const
    );
    #[cfg(loom)]
    non_poisoning!(
        /// The runtime's lock, as loom models it.
        Mutex,
        ::loom::sync::Mutex<T>,
        MutexGuard
    );

    non_poisoning!(
        /// Every other lock of the runtime: std's `Mutex` without poisoning,
        /// in every build (no model runs it; statics and `const fn`s need
        /// it, as loom's locks cannot be built in a const). Its guard is
        /// std's, so `std::sync::Condvar` works with it.
        StdMutex,
        std::sync::Mutex<T>,
        StdMutexGuard,
        const
    );

    /// The guard of a [`StdMutex`].
    pub(crate) type StdMutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
}

pub(crate) mod cell {
    //! `UnsafeCell` with loom's access API (`get_mut` returns a tracked
    //! pointer), so that loom can check who touches the value when.

    #[cfg(loom)]
    pub(crate) use ::loom::cell::{MutPtr, UnsafeCell};

    /// std's `UnsafeCell` with loom's API.
    #[cfg(not(loom))]
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    /// A pointer to the value of an [`UnsafeCell`], for one access (loom
    /// tracks it until dropped).
    #[cfg(not(loom))]
    #[derive(Debug)]
    pub(crate) struct MutPtr<T>(*mut T);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        #[inline]
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// A pointer for one mutable access.
        #[inline]
        pub(crate) fn get_mut(&self) -> MutPtr<T> {
            MutPtr(self.0.get())
        }
    }

    #[cfg(not(loom))]
    impl<T> MutPtr<T> {
        /// Runs `f` on the raw pointer (which must not escape `f`).
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0)
        }

        /// # Safety
        /// As dereferencing the raw pointer: the access is exclusive for
        /// the life of the returned reference.
        #[inline]
        #[allow(clippy::mut_from_ref)]
        pub(crate) unsafe fn deref(&self) -> &mut T {
            // SAFETY: `self.0` came from `UnsafeCell::get`, so it is non-null
            // and aligned; the caller guarantees the cell is alive and this
            // access exclusive for the reference's life.
            unsafe { &mut *self.0 }
        }
    }
}

/// A static built on first use: loom's under `--cfg loom` (a fresh one per
/// execution), for statics of loom types, which cannot be built in a const.
#[cfg(loom)]
pub(crate) use ::loom::lazy_static;

pub(crate) mod hint {
    //! Spinning: under loom a spin loop must yield to the other threads.
    #[cfg(loom)]
    pub(crate) use ::loom::hint::spin_loop;
    #[cfg(not(loom))]
    pub(crate) use std::hint::spin_loop;
}

pub(crate) mod thread {
    //! Parking a plain thread, and its thread-locals.
    #[cfg(loom)]
    pub(crate) use ::loom::{
        thread::{current, park, yield_now, Thread},
        thread_local,
    };
    #[cfg(not(loom))]
    pub(crate) use std::{
        thread::{current, park, park_timeout, yield_now, Thread},
        thread_local,
    };

    /// loom has no timed park: the timeout passes at once (a spurious
    /// return, which every caller of a timed park handles).
    #[cfg(loom)]
    pub(crate) fn park_timeout(_: std::time::Duration) {
        yield_now()
    }
}
