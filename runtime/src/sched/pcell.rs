//! The slot through which an M holds its P, shared with sysmon.
//!
//! Owns: `PCell`, a tiny spin lock around `Option<POwned>`. The M that owns
//! the slot takes the lock for each short use of its P (queue a G, bump a
//! counter, look for work); sysmon takes it to *retake* the P from an M that
//! is stuck in `blocking()` or in a goroutine that has not yielded for a
//! long time, and hands that P to another M. After a retake the stuck M
//! finds the slot empty and carries on without a P until it gets one back.
//!
//! Contention is only ever between the owner and sysmon, and every critical
//! section is a few instructions, so spinning is the right lock here.
//!
//! Must never: be held across a goroutine switch, a park, or anything that
//! can block or take another lock that may wait for this one.
//!
//! The lock is [`SpinCell`], generic over what it holds, so that
//! `runtime/tests/loom.rs` model-checks it with loom's atomics and cell.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use super::p::POwned;
use crate::loom::cell::{MutPtr, UnsafeCell};
use crate::loom::hint::spin_loop;
use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// The slot through which an M holds its P.
pub(crate) type PCell = SpinCell<Option<POwned>>;

/// A tiny spin lock around a `T` (see the module comment).
pub(crate) struct SpinCell<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only reached through a `SpinGuard`, and at most one
// `SpinGuard` exists at a time (the `locked` flag, taken with Acquire and
// released with Release, orders every access). `T` moves between threads
// with the lock, hence `T: Send`.
unsafe impl<T: Send> Sync for SpinCell<T> {}

impl<T> SpinCell<T> {
    pub fn new(value: T) -> SpinCell<T> {
        SpinCell {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks the slot. Spins: the holder is never descheduled voluntarily
    /// inside (see the module comment).
    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        crate::lockrank::acquire_p_slot(self); // lockrank: debug builds only
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                spin_loop();
            }
        }
        SpinGuard {
            cell: self,
            value: ManuallyDrop::new(self.value.get_mut()),
        }
    }
}

pub(crate) struct SpinGuard<'a, T> {
    cell: &'a SpinCell<T>,
    /// The one access to the value while the lock is held (under loom it
    /// is tracked until dropped, which `drop` does before unlocking).
    value: ManuallyDrop<MutPtr<T>>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock: no other reference to the value
        // exists but through this guard, for no longer than it.
        MutPtr::with(&self.value, |p| unsafe { &*p })
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock: no other reference to the value
        // exists.
        unsafe { MutPtr::deref(&self.value) }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped once, here, and not used after.
        unsafe { ManuallyDrop::drop(&mut self.value) };
        self.cell.locked.store(false, Ordering::Release);
        crate::lockrank::release_p_slot(self.cell); // lockrank: debug builds only
    }
}
