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

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use super::p::POwned;

pub(crate) struct PCell {
    locked: AtomicBool,
    p: UnsafeCell<Option<POwned>>,
}

// SAFETY: `p` is only reached through a `PGuard`, and at most one `PGuard`
// exists at a time (the `locked` flag, taken with Acquire and released with
// Release, orders every access). `POwned` is `Send`.
unsafe impl Sync for PCell {}

impl PCell {
    pub fn new(p: Option<POwned>) -> PCell {
        PCell {
            locked: AtomicBool::new(false),
            p: UnsafeCell::new(p),
        }
    }

    /// Locks the slot. Spins: the holder is never descheduled voluntarily
    /// inside (see the module comment).
    #[inline]
    pub fn lock(&self) -> PGuard<'_> {
        crate::lockrank::acquire_p_slot(self); // lockrank: debug builds only
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
        PGuard { cell: self }
    }
}

pub(crate) struct PGuard<'a> {
    cell: &'a PCell,
}

impl Deref for PGuard<'_> {
    type Target = Option<POwned>;
    #[inline]
    fn deref(&self) -> &Option<POwned> {
        // SAFETY: this guard holds the lock: no other reference to `p` exists.
        unsafe { &*self.cell.p.get() }
    }
}

impl DerefMut for PGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Option<POwned> {
        // SAFETY: this guard holds the lock: no other reference to `p` exists.
        unsafe { &mut *self.cell.p.get() }
    }
}

impl Drop for PGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.cell.locked.store(false, Ordering::Release);
        crate::lockrank::release_p_slot(self.cell); // lockrank: debug builds only
    }
}
