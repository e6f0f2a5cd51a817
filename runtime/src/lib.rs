//! weft's runtime: an M:N work-stealing scheduler for stackful goroutines,
//! after Go's G/M/P design.
//!
//! - **G** ([`g`]): a goroutine — a corosensei coroutine on its own stack,
//!   with an id, a state and a wait reason.
//! - **M** (`sched::worker`): an OS thread running goroutines. It needs a P.
//! - **P** (`sched::p`): a processor — a local run queue and a `runnext`
//!   slot. Exactly [`maxprocs`] of them, so at most that many goroutines run
//!   at once.
//!
//! Everything that blocks goes through one primitive, [`park`]. Start with
//! `docs/scheduler.md` for the whole picture.
//!
//! ```
//! let h = weft::go!(move || 1 + 1);
//! assert_eq!(h.join().unwrap(), 2);
//! ```
//!
//! # Rules for code running in goroutines
//!
//! A goroutine may resume on another OS thread after any blocking call
//! (a channel operation, a lock, `join`, `yield_now`, `sleep`). So across
//! such a call, do not hold:
//! - a reference obtained from a `thread_local!` (re-read it afterwards);
//! - a `std::sync::MutexGuard` (use `weft::sync::Mutex`, which parks);
//! - anything that assumes it stays on one thread (`RefCell` borrows of
//!   thread-local data, thread ids cached in locals).
//!
//! A goroutine that computes for a long time without a blocking call keeps
//! its P; call [`yield_now`] in long loops.

#![warn(missing_docs)]
// Writes to stderr go through `stdio` (clippy.toml says why).
#![deny(clippy::disallowed_macros, clippy::disallowed_methods)]

mod blocking;
mod clock;
pub mod config;
mod coro;
mod deadlock;
mod dump;
pub mod g;
mod local;
mod lockos;
#[doc(hidden)]
pub mod lockrank;
mod loom;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
pub mod net;
mod netpoll;
pub mod park;
pub(crate) mod sched;
mod scope;
mod spawn;
pub(crate) mod stack;
mod stats;
mod stdio;
pub mod sync;
pub mod time;
pub mod timer;
pub mod trace;
mod waitq;

pub use blocking::blocking;
pub use config::{Config, ConfigError, SpawnPolicy};
pub use config::{DEFAULT_STACK_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE};
pub use dump::dump_goroutines;
pub use g::{GoId, WaitReason};
pub use local::{AccessError, LocalKey};
pub use lockos::{lock_os_thread, unlock_os_thread};
pub use scope::{scope, Scope, ScopedJoinHandle};
#[doc(hidden)]
pub use spawn::spawn_at;
pub use spawn::{run, spawn, yield_now, Builder, JoinError, JoinHandle};
pub use stats::{stats, PStats, Stats};

/// The number of processors: how many goroutines can run at once (Go's
/// `runtime.GOMAXPROCS(0)`). Starts the runtime if needed.
///
/// ```
/// assert!(weft::maxprocs() >= 1);
/// ```
#[track_caller]
pub fn maxprocs() -> usize {
    sched::runtime().maxprocs()
}

/// Sets the number of processors while goroutines run, and returns the
/// previous number (Go's `runtime.GOMAXPROCS(n)`). `0` only queries.
///
/// # Panics
/// If `n` is above [`config::MAX_PROCS`].
///
/// ```
/// let old = weft::set_maxprocs(0); // query
/// assert_eq!(weft::set_maxprocs(old), old);
/// ```
#[track_caller]
pub fn set_maxprocs(n: usize) -> usize {
    let rt = sched::runtime();
    if n == 0 {
        return rt.maxprocs();
    }
    assert!(
        n <= config::MAX_PROCS,
        "weft::set_maxprocs({n}): at most {} processors are supported",
        config::MAX_PROCS
    );
    sched::set_maxprocs(rt, n)
}

/// The number of goroutines that have been spawned and have not finished
/// (Go's `runtime.NumGoroutine`).
///
/// ```
/// let before = weft::num_goroutine();
/// let h = weft::spawn(|| ());
/// h.join().unwrap();
/// assert!(weft::num_goroutine() <= before + 1);
/// ```
pub fn num_goroutine() -> usize {
    sched::num_goroutine(sched::runtime())
}

/// The id of the goroutine calling this, or `None` on a plain thread.
/// Inside [`blocking`] the caller is still its goroutine (as in Go, where
/// a goroutine in a system call keeps its id), and so is a panic hook
/// running for it.
///
/// ```
/// assert_eq!(weft::current_id(), None);
/// let (id, inside) = weft::spawn(|| (weft::current_id(), weft::blocking(weft::current_id)))
///     .join()
///     .unwrap();
/// assert!(id.is_some());
/// assert_eq!(inside, id);
/// ```
pub fn current_id() -> Option<GoId> {
    g::owner().map(|g| g.id())
}

/// A fatal runtime error (Go's `throw`): prints `fatal error: ...` and
/// aborts the process. For broken invariants, never for user errors.
#[cold]
pub(crate) fn throw(msg: &str) -> ! {
    stdio::write_now(format_args!("fatal error: {msg}\n"));
    std::process::abort()
}
