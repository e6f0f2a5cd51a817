//! The slot through which an M holds its P, shared with sysmon.
//!
//! Owns: `PCell`, a tiny lock around `Option<POwned>`, and the asymmetric
//! memory barrier that makes the owner's side of it cheap. The M that owns
//! the slot takes the lock for each short use of its P (queue a G, bump a
//! counter, look for work): several times per goroutine switch. Sysmon
//! takes it to *retake* the P from an M that is stuck in `blocking()` or in
//! a goroutine that has not yielded for a long time, and hands that P to
//! another M; the goroutine dump reads it. After a retake the stuck M finds
//! the slot empty and carries on without a P until it gets one back.
//!
//! The lock is biased towards its owner (Dekker's two flags, with the
//! fences made asymmetric as in folly's hazard pointers and liburcu):
//!
//! ```text
//! owner (its M, hot)                 remote (sysmon, dump: rare)
//! owner := true                      remote := true   (a CAS: remotes queue)
//! light barrier (a compiler fence)   heavy barrier (membarrier(2))
//! remote set? back off, retry        owner set? wait until it clears
//! ... critical section ...           ... critical section ...
//! owner := false (release)           remote := false (release)
//! ```
//!
//! Each side writes its flag, then reads the other's; at least one sees the
//! other's flag and yields, provided nothing reorders a side's write after
//! its read. The remote side's `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`
//! runs a full barrier on every CPU running one of our threads, which
//! orders the owner's write before its read for it: the owner pays no
//! locked instruction at all, where a CAS lock cost it two per goroutine
//! switch (ping-pong at 1P: 10% of a round trip). Where the kernel refuses
//! the registration, both sides use a real `SeqCst` fence instead.
//!
//! Must never: be held across a goroutine switch, a park, or anything that
//! can block or take another lock that may wait for this one; be taken
//! with [`SpinCell::lock`] by any thread but the slot's M.
//!
//! The lock is [`SpinCell`], generic over what it holds, so that
//! `runtime/tests/loom.rs` model-checks it with loom's atomics and cell
//! (with a `SeqCst` fence on both sides: loom has no membarrier).

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use super::p::POwned;
use crate::loom::cell::{MutPtr, UnsafeCell};
use crate::loom::hint::spin_loop;
use crate::loom::sync::atomic::{AtomicBool, Ordering};

/// The slot through which an M holds its P.
pub(crate) type PCell = SpinCell<Option<POwned>>;

/// A tiny lock around a `T`, biased towards one owner thread (see the
/// module comment).
pub(crate) struct SpinCell<T> {
    /// The owner is inside, or about to be.
    owner: AtomicBool,
    /// A remote is inside, or waiting for the owner to leave.
    remote: AtomicBool,
    value: UnsafeCell<T>,
}

// (The flags exclude each other as the module comment shows; remotes queue
// on a CAS; each side reads the other's flag with Acquire and clears its
// own with Release, which orders the critical sections.)
// SAFETY: `value` is only reached through a `SpinGuard`, at most one at a
// time (above); `T` moves between threads with the lock, hence `T: Send`.
unsafe impl<T: Send> Sync for SpinCell<T> {}

impl<T> SpinCell<T> {
    pub fn new(value: T) -> SpinCell<T> {
        init();
        SpinCell {
            owner: AtomicBool::new(false),
            remote: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks the slot from its owner's thread (the M whose slot it is):
    /// no locked instruction unless a remote is inside.
    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        crate::lockrank::acquire_p_slot(self); // lockrank: debug builds only
        debug_assert!(
            !self.owner.load(Ordering::Relaxed),
            "an M locked its P slot twice (or another thread used the owner's path)"
        );
        loop {
            self.owner.store(true, Ordering::Relaxed);
            barrier::light();
            // Acquire: pairs with a remote's release, publishing what it
            // did to the value.
            if !self.remote.load(Ordering::Acquire) {
                break;
            }
            self.owner.store(false, Ordering::Release);
            wait_while(&self.remote);
        }
        SpinGuard {
            flag: &self.owner,
            cell: self,
            value: ManuallyDrop::new(self.value.get_mut()),
        }
    }

    /// Locks the slot from any other thread (sysmon, the goroutine dump).
    /// Costs a `membarrier` system call: for rare uses only (remotes back
    /// to back would starve the owner, which retries only while no remote
    /// holds or waits).
    pub fn lock_remote(&self) -> SpinGuard<'_, T> {
        crate::lockrank::acquire_p_slot(self); // lockrank: debug builds only
        while self
            .remote
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            wait_while(&self.remote);
        }
        barrier::heavy();
        // Acquire (in `wait_while`): pairs with the owner's release,
        // publishing its last critical section.
        wait_while(&self.owner);
        SpinGuard {
            flag: &self.remote,
            cell: self,
            value: ManuallyDrop::new(self.value.get_mut()),
        }
    }
}

/// Registers the process for the cheap owner side (see the module
/// comment), once. The runtime calls it before it starts any thread: the
/// kernel registers a single-threaded process for free, and one with more
/// threads with an RCU grace period (about 10 ms here).
pub(crate) fn init() {
    barrier::init();
}

/// Spins until `flag` is false (Acquire), then returns; yields the CPU
/// after a while, in case the holder was descheduled (a remote holds its
/// flag across a system call, which is where the kernel preempts).
#[inline]
fn wait_while(flag: &AtomicBool) {
    let mut spins = 0u32;
    while flag.load(Ordering::Acquire) {
        spins += 1;
        if spins < 64 {
            spin_loop();
        } else {
            crate::loom::thread::yield_now();
        }
    }
}

pub(crate) struct SpinGuard<'a, T> {
    /// The flag this guard holds: the owner's or the remote's.
    flag: &'a AtomicBool,
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
        self.flag.store(false, Ordering::Release);
        crate::lockrank::release_p_slot(self.cell); // lockrank: debug builds only
    }
}

/// The two halves of the asymmetric barrier (see the module comment).
mod barrier {
    use crate::loom::sync::atomic::{fence, Ordering};
    #[cfg(not(loom))]
    use std::sync::atomic::{compiler_fence, AtomicBool};

    /// `membarrier(2)` commands (linux/membarrier.h).
    #[cfg(not(loom))]
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    #[cfg(not(loom))]
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// Set once, before the first `SpinCell` exists, if the process is
    /// registered for expedited private membarriers; never changes after.
    #[cfg(not(loom))]
    static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

    /// Issues `membarrier(cmd)`; whether it succeeded.
    #[cfg(not(loom))]
    fn membarrier(cmd: libc::c_long) -> bool {
        // SAFETY: membarrier takes no pointers; an unknown command or an
        // old kernel is an error return, not UB.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) == 0 }
    }

    /// Registers the process for expedited membarriers, once. Every
    /// `SpinCell::new` calls it, so whoever can reach a cell sees
    /// [`ASYMMETRIC`]'s final value (`Once` orders it before them).
    pub(super) fn init() {
        #[cfg(not(loom))]
        {
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                // The command itself is tried too: a filter (seccomp) may
                // allow the registration and refuse the barrier.
                let ok =
                    membarrier(CMD_REGISTER_PRIVATE_EXPEDITED) && membarrier(CMD_PRIVATE_EXPEDITED);
                ASYMMETRIC.store(ok, Ordering::Relaxed);
            });
        }
    }

    /// The owner's half: orders its flag write before its read of the
    /// remote's flag, for free when the remote side can membarrier.
    #[inline]
    pub(super) fn light() {
        #[cfg(not(loom))]
        if ASYMMETRIC.load(Ordering::Relaxed) {
            compiler_fence(Ordering::SeqCst);
            return;
        }
        fence(Ordering::SeqCst);
    }

    /// The remote's half: a full barrier on every CPU running one of our
    /// threads (or a plain fence, if the owners use one).
    pub(super) fn heavy() {
        #[cfg(not(loom))]
        if ASYMMETRIC.load(Ordering::Relaxed) {
            // Registered and tried in `init`: a failure now is the kernel
            // changing its mind (or a forked child, which is not registered).
            if !membarrier(CMD_PRIVATE_EXPEDITED) {
                crate::throw(&format!(
                    "membarrier failed after registration: {}",
                    std::io::Error::last_os_error()
                ));
            }
            return;
        }
        fence(Ordering::SeqCst);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::SpinCell;
    use std::ptr;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The owner thread and a remote thread share one cell with the real
    /// barrier (membarrier where the kernel has it). The owner writes the
    /// pair's halves in two separate stores; a remote that ever got in
    /// between them would see them differ.
    #[test]
    fn owner_and_remote_exclude_each_other() {
        const OWNER_ROUNDS: u64 = 20_000_000;
        let cell = Arc::new(SpinCell::new((0u64, 0u64, 0u64)));
        let done = Arc::new(AtomicBool::new(false));
        let (c, d) = (cell.clone(), done.clone());
        let remote = std::thread::spawn(move || {
            let mut looks = 0u64;
            while !d.load(Ordering::Relaxed) || looks == 0 {
                let mut g = c.lock_remote();
                // SAFETY: the guard gives the only access to the tuple.
                let (a, b) = unsafe { (ptr::read_volatile(&g.0), ptr::read_volatile(&g.1)) };
                assert_eq!(a, b, "the remote got in between the owner's two writes");
                g.2 += 1;
                looks += 1;
                drop(g);
                // A remote comes rarely (sysmon: at most once a pass, 20 us
                // apart); back to back it would starve the owner, whose
                // retry needs the remote flag down for a moment.
                for _ in 0..2_000 {
                    std::hint::spin_loop();
                }
            }
            looks
        });
        for _ in 0..OWNER_ROUNDS {
            let mut g = cell.lock();
            let v = g.0 + 1;
            // SAFETY: the guard gives the only access to the tuple.
            unsafe {
                ptr::write_volatile(&mut g.0, v);
                std::hint::spin_loop();
                ptr::write_volatile(&mut g.1, v);
            }
        }
        done.store(true, Ordering::Relaxed);
        let looks = remote.join().unwrap();
        let v = *cell.lock();
        assert_eq!((v.0, v.1, v.2), (OWNER_ROUNDS, OWNER_ROUNDS, looks));
    }
}
