//! Synchronisation primitives that park goroutines instead of blocking
//! OS threads: Go's `sync` package, in Rust's guard-based shape.
//!
//! | type | Go | wait reason |
//! |---|---|---|
//! | [`Mutex<T>`] | `sync.Mutex` (normal + starvation mode) | `sync.Mutex.Lock` |
//! | [`RwLock<T>`] | `sync.RWMutex` (a waiting writer blocks new readers) | `sync.RWMutex.RLock` / `sync.RWMutex.Lock` |
//! | [`WaitGroup`] | `sync.WaitGroup` | `sync.WaitGroup.Wait` |
//! | [`Cond`] | `sync.Cond` | `sync.Cond.Wait` |
//! | [`Once`], [`OnceLock<T>`] | `sync.Once`, `sync.OnceValue` | `semacquire` |
//! | [`Semaphore`] | `x/sync/semaphore.Weighted` | `semacquire` |
//! | [`Pool<T>`] | `sync.Pool` (per-P caches) | never waits |
//!
//! # Design
//!
//! Everything blocks through [`crate::park`], so a waiting goroutine frees
//! its M for other goroutines, and every type also works from plain OS
//! threads (the same `park` parks the thread). Two internal building blocks
//! sit under the types (see `docs/sync.md` for the protocols):
//!
//! - `waitq`: a wait-queue node that lives on the waiting goroutine's own
//!   stack (no allocation per wait), and the rule that makes that safe: a
//!   waker touches the node only between popping it and storing its wake
//!   state.
//! - `sema`: Go's runtime semaphore (`semacquire`/`semrelease`, with LIFO
//!   re-queueing and direct hand-off) under `Mutex`, `RwLock` and
//!   `WaitGroup`. `Cond` and `Semaphore` keep their own queues of the same
//!   nodes.
//!
//! Internal queues are guarded by std mutexes held for a few instructions;
//! such a lock is never held across a park, except by handing its guard to
//! the park's commit closure, which releases it once the goroutine is off
//! its stack.
//!
//! # Panics and poisoning
//!
//! Go has no poisoning; std does. weft takes the middle road: a guard
//! dropped while its goroutine unwinds **unlocks**, so a panicking goroutine
//! never leaves others hanging, and locking never returns an error. The
//! next locker can still tell: [`Mutex::is_poisoned`] and
//! [`RwLock::is_poisoned`] report that a (write) guard was dropped during a
//! panic. A panicking [`Once`] closure counts as done (Go's rule); a
//! panicking [`OnceLock`] initialiser leaves the cell empty.
//!
//! Guards are `!Send` (like std's), but unlike std's they may be held
//! across any blocking call of weft: that is what these types are for.

mod cond;
mod mutex;
mod once;
mod pool;
mod rwlock;
mod sema;
mod semaphore;
mod waitgroup;
pub(crate) mod waitq; // netpoll: I/O waiters are waitq nodes

pub use cond::Cond;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock};
pub use pool::{Pool, LOCAL_CAP, SHARED_CAP};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::Semaphore;
pub use waitgroup::WaitGroup;

use std::sync::atomic::{AtomicUsize, Ordering};

/// Number of CPUs, cached (the mutex's spin decision asks on every spin).
fn ncpu() -> usize {
    static NCPU: AtomicUsize = AtomicUsize::new(0);
    match NCPU.load(Ordering::Relaxed) {
        0 => {
            let n = num_cpus::get().max(1);
            NCPU.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// After a direct hand-off (starvation mode), let the receiver run now
/// (Go's `goyield` in `semrelease1`). Not while unwinding: a goroutine must
/// not switch in the middle of a panic (the panic count is per thread).
fn handoff_yield() {
    if crate::g::current().is_some() && !std::thread::panicking() {
        crate::yield_now();
    }
}
