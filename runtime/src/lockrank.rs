//! Lock ranks: the runtime's lock order, written down once and checked in
//! debug builds (Go's `lockrank.go`).
//!
//! Owns: the rank of every runtime lock ([`rank`]), [`Mutex`] and
//! [`Condvar`] (the sync shim's, `crate::loom::sync`, with a rank: std's
//! without poisoning, loom's under `--cfg loom`), the hooks a hand-made
//! lock calls ([`acquire`], [`release`]: the P slot's spin lock), and the
//! per-thread record of the locks a thread holds.
//!
//! The rule: a thread may take a lock only while every lock it already
//! holds has a *lower* rank — or, for a rank that allows several at once
//! (channel locks, which a `select!` takes together), the same rank at a
//! lower address. docs/HACKING.md has the order as a table, with where
//! each nesting happens. In debug builds every acquisition checks the rule
//! against the thread's record and a violation is a `throw` naming both
//! locks; in release builds the record and the checks do not exist:
//! `Mutex<T, R>` is a `std::sync::Mutex<T>` and [`acquire`] is empty.
//! Under `--cfg loom` the checks do not exist either (loom's threads are
//! not OS threads, so a per-thread record would mean nothing); the locks
//! are loom's, so the models run the ranked locks' real code.
//!
//! A lock held across a goroutine switch would show up here too: the
//! record is per OS thread, so a goroutine that resumes elsewhere and
//! unlocks there releases a lock its new thread never took.
//!
//! Must never: take a lock, park, or do anything at all in release builds.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use crate::loom::sync as shim;

/// The ranks, lowest (taken first) to highest. Gaps leave room.
pub mod rank {
    /// A channel's lock (`weft-channels`' `Chan::lock`). Several may be held
    /// at once, taken in ascending address order (`select!`).
    pub const CHAN: u8 = 10;
    /// The timer heap (`timer.rs`); taken under a channel lock by
    /// `send_timeout`/`recv_timeout`.
    pub const TIMER_HEAP: u8 = 20;
    /// The idle lists (`sched::idle::Idle::lock`); taken under the timer
    /// heap's caller when an earlier timer wakes the timer-role M.
    pub const IDLE: u8 = 30;
    /// An M's hand-off slot (`sched::idle::MHandle::slot`).
    pub const M_SLOT: u8 = 40;
    /// An M's P slot (`sched::pcell::PCell`), a spin lock.
    pub const P_SLOT: u8 = 50;
    /// A shard of the goroutine registry (`sched::allgs`).
    pub const REGISTRY: u8 = 60;
    /// The global stack pool (`stack::StackPool`).
    pub const STACK_POOL: u8 = 70;

    /// A rank's name, for the violation message.
    pub fn name(rank: u8) -> &'static str {
        match rank {
            CHAN => "channel lock",
            TIMER_HEAP => "timer heap",
            IDLE => "idle lock",
            M_SLOT => "M slot",
            P_SLOT => "P slot",
            REGISTRY => "registry shard",
            STACK_POOL => "stack pool",
            _ => "unknown rank",
        }
    }

    /// Whether several locks of this rank may be held at once (in
    /// ascending address order).
    pub fn many(rank: u8) -> bool {
        rank == CHAN
    }
}

/// Records that the calling thread is about to take the lock at `addr`
/// of rank `rank`; in debug builds, throws if that breaks the lock order.
/// Call before blocking on the lock, and [`release`] after unlocking it.
/// Nothing at all in release builds.
///
/// ```
/// use weft_runtime::lockrank::{acquire, release, rank};
/// let (a, b) = (1usize, 2usize);
/// acquire(rank::CHAN, &a as *const _ as usize);
/// acquire(rank::CHAN, &b as *const _ as usize); // a higher address: allowed
/// acquire(rank::TIMER_HEAP, 0); // a higher rank: allowed
/// release(rank::TIMER_HEAP, 0);
/// release(rank::CHAN, &b as *const _ as usize);
/// release(rank::CHAN, &a as *const _ as usize);
/// ```
#[inline]
pub fn acquire(rank: u8, addr: usize) {
    #[cfg(all(debug_assertions, not(loom)))]
    held::acquire(rank, addr);
    #[cfg(not(all(debug_assertions, not(loom))))]
    let _ = (rank, addr);
}

/// Records that the calling thread released the lock at `addr` (see
/// [`acquire`]). Nothing at all in release builds.
#[inline]
pub fn release(rank: u8, addr: usize) {
    #[cfg(all(debug_assertions, not(loom)))]
    held::release(rank, addr);
    #[cfg(not(all(debug_assertions, not(loom))))]
    let _ = (rank, addr);
}

/// [`acquire`] for an M's P slot (`sched::pcell`'s spin lock), so its
/// hook stays one line.
#[inline]
pub(crate) fn acquire_p_slot<T>(cell: *const T) {
    acquire(rank::P_SLOT, cell as usize);
}

/// [`release`] for an M's P slot (see [`acquire_p_slot`]).
#[inline]
pub(crate) fn release_p_slot<T>(cell: *const T) {
    release(rank::P_SLOT, cell as usize);
}

/// Throws if the calling thread holds any ranked lock (debug builds): an
/// M about to resume a goroutine must hold none. Nothing in release builds.
#[inline]
pub fn assert_none_held(what: &str) {
    #[cfg(all(debug_assertions, not(loom)))]
    held::assert_none(what);
    #[cfg(not(all(debug_assertions, not(loom))))]
    let _ = what;
}

#[cfg(all(debug_assertions, not(loom)))]
mod held {
    use std::cell::RefCell;

    thread_local! {
        /// (rank, address) of every ranked lock this thread holds, in the
        /// order taken.
        static HELD: RefCell<Vec<(u8, usize)>> = const { RefCell::new(Vec::new()) };
    }

    // `#[inline(never)]` on all three: the caller may be a goroutine that
    // moves to another thread between two calls, and the thread-local's
    // address must be computed afresh each time.

    #[inline(never)]
    pub(super) fn acquire(rank: u8, addr: usize) {
        let bad = HELD
            .try_with(|h| {
                let mut h = h.borrow_mut();
                let bad = h.iter().copied().find(|&(r, a)| {
                    r > rank || (r == rank && !(super::rank::many(rank) && a < addr))
                });
                h.push((rank, addr));
                bad
            })
            .ok()
            .flatten();
        if let Some((r, a)) = bad {
            crate::throw(&format!(
                "lock order: taking the {} at {addr:#x} (rank {rank}) while holding the {} at {a:#x} (rank {r}); see docs/HACKING.md, \"Lock order\"",
                super::rank::name(rank),
                super::rank::name(r),
            ));
        }
    }

    #[inline(never)]
    pub(super) fn release(rank: u8, addr: usize) {
        let found = HELD
            .try_with(|h| {
                let mut h = h.borrow_mut();
                match h.iter().rposition(|&e| e == (rank, addr)) {
                    Some(i) => {
                        h.remove(i);
                        true
                    }
                    None => false,
                }
            })
            .unwrap_or(true);
        if !found {
            crate::throw(&format!(
                "lock order: releasing the {} at {addr:#x}, which this thread does not hold (held across a goroutine switch?)",
                super::rank::name(rank)
            ));
        }
    }

    #[inline(never)]
    pub(super) fn assert_none(what: &str) {
        let held = HELD.try_with(|h| h.borrow().clone()).unwrap_or_default();
        if let Some(&(r, a)) = held.first() {
            crate::throw(&format!(
                "lock order: {what} while holding the {} at {a:#x}",
                super::rank::name(r)
            ));
        }
    }
}

/// A `std::sync::Mutex` with a rank (see the module comment) and without
/// poisoning (the runtime's critical sections run no user code, so a lock
/// whose holder panicked is as good as any): `new`, `lock` returning the
/// guard, a guard that derefs to `T`. A lock changes rank by changing its
/// type only. Under `--cfg loom`, loom's mutex.
///
/// ```
/// use weft_runtime::lockrank::{rank, Mutex};
/// let m: Mutex<u32, { rank::IDLE }> = Mutex::new(1);
/// *m.lock() += 1;
/// assert_eq!(*m.lock(), 2);
/// ```
pub struct Mutex<T: ?Sized, const RANK: u8> {
    inner: shim::Mutex<T>,
}

/// The guard of a ranked [`Mutex`]: unlocking releases the rank.
pub struct MutexGuard<'a, T: ?Sized> {
    inner: shim::MutexGuard<'a, T>,
    #[cfg(all(debug_assertions, not(loom)))]
    rank: u8,
    #[cfg(all(debug_assertions, not(loom)))]
    addr: usize,
}

/// A channel's lock: rank [`rank::CHAN`].
pub type ChanMutex<T> = Mutex<T, { rank::CHAN }>;

impl<T, const RANK: u8> Mutex<T, RANK> {
    /// A new unlocked mutex.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Mutex {
            inner: shim::Mutex::new(value),
        }
    }

    /// A new unlocked mutex (loom's: not `const`).
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Mutex {
            inner: shim::Mutex::new(value),
        }
    }
}

impl<T: ?Sized, const RANK: u8> Mutex<T, RANK> {
    /// Locks, after checking the lock order (debug builds); ignores poison.
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let addr = self as *const Self as *const u8 as usize;
        acquire(RANK, addr);
        MutexGuard {
            inner: self.inner.lock(),
            #[cfg(all(debug_assertions, not(loom)))]
            rank: RANK,
            #[cfg(all(debug_assertions, not(loom)))]
            addr,
        }
    }
}

impl<T: Default, const RANK: u8> Default for Mutex<T, RANK> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        #[cfg(all(debug_assertions, not(loom)))]
        release(self.rank, self.addr);
    }
}

/// std's `Condvar` for ranked guards (loom's under `--cfg loom`), without
/// poisoning: the rank is released while waiting and checked again when
/// the lock is retaken.
///
/// ```
/// use weft_runtime::lockrank::{rank, Condvar, Mutex};
/// let m: Mutex<bool, { rank::M_SLOT }> = Mutex::new(true);
/// let cv = Condvar::new();
/// let g = m.lock();
/// let (g, _) = cv.wait_timeout(g, std::time::Duration::from_millis(1));
/// assert!(*g);
/// ```
#[derive(Debug, Default)]
pub struct Condvar(shim::Condvar);

impl Condvar {
    /// A new condition variable.
    #[cfg(not(loom))]
    pub const fn new() -> Condvar {
        Condvar(shim::Condvar::new())
    }

    /// A new condition variable (loom's: not `const`).
    #[cfg(loom)]
    pub fn new() -> Condvar {
        Condvar(shim::Condvar::new())
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.0.notify_one()
    }

    /// Waits for a notification (spurious wake-ups happen); ignores poison.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let (inner, rewrap) = guard.unwrap_for_wait();
        rewrap(self.0.wait(inner).unwrap_or_else(|e| e.into_inner()))
    }

    /// Waits for a notification or `dur`; the flag says it timed out.
    /// Ignores poison. (Under loom, no timeout: a plain wait.)
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let (inner, rewrap) = guard.unwrap_for_wait();
        let (g, t) = self
            .0
            .wait_timeout(inner, dur)
            .unwrap_or_else(|e| e.into_inner());
        (rewrap(g), t.timed_out())
    }
}

impl<'a, T> MutexGuard<'a, T> {
    /// Takes the std guard out (releasing the rank while a condvar waits)
    /// and returns how to wrap it again (re-checking the rank).
    #[allow(clippy::type_complexity)]
    fn unwrap_for_wait(
        self,
    ) -> (
        shim::MutexGuard<'a, T>,
        impl FnOnce(shim::MutexGuard<'a, T>) -> MutexGuard<'a, T>,
    ) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped (`ManuallyDrop`) and `inner` is
        // read out of it only here, so the std guard has one owner again;
        // the rest of `this` is `Copy` data (read below), and the rank it
        // held is released below by hand, as its `Drop` would.
        let inner = unsafe { std::ptr::read(&this.inner) };
        #[cfg(all(debug_assertions, not(loom)))]
        let (rank, addr) = (this.rank, this.addr);
        #[cfg(all(debug_assertions, not(loom)))]
        release(rank, addr);
        let rewrap = move |inner| {
            #[cfg(all(debug_assertions, not(loom)))]
            acquire(rank, addr);
            MutexGuard {
                inner,
                #[cfg(all(debug_assertions, not(loom)))]
                rank,
                #[cfg(all(debug_assertions, not(loom)))]
                addr,
            }
        };
        (inner, rewrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_respected_and_released() {
        let a: Mutex<(), { rank::IDLE }> = Mutex::new(());
        let b: Mutex<(), { rank::M_SLOT }> = Mutex::new(());
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        // Both released: the other order is fine one at a time.
        drop(b.lock());
        drop(a.lock());
        assert_none_held("test end");
    }

    #[test]
    fn channel_locks_in_address_order() {
        let locks: Vec<ChanMutex<()>> = (0..3).map(|_| ChanMutex::new(())).collect();
        let mut refs: Vec<&ChanMutex<()>> = locks.iter().collect();
        refs.sort_by_key(|l| *l as *const _ as usize);
        let guards: Vec<_> = refs.iter().map(|l| l.lock()).collect();
        drop(guards);
        assert_none_held("test end");
    }

    #[test]
    fn condvar_wait_releases_and_retakes() {
        let m: Mutex<u8, { rank::M_SLOT }> = Mutex::new(0);
        let cv = Condvar::new();
        let g = m.lock();
        let (g, timed_out) = cv.wait_timeout(g, Duration::from_millis(1));
        assert!(timed_out);
        drop(g);
        assert_none_held("test end");
    }
}
