//! weft: Go's concurrency for Rust — goroutines on an M:N work-stealing
//! scheduler, channels and `select!`, all on one parking primitive.
//!
//! This is the facade crate: everything an application needs is here.
//!
//! ```
//! let h = weft::go!(move || 6 * 7);
//! assert_eq!(h.join().unwrap(), 42);
//! ```
//!
//! What is where (Go's names in brackets):
//!
//! - goroutines: [`go!`], [`spawn`], [`Builder`], [`JoinHandle`], [`run`],
//!   [`yield_now`], [`maxprocs`] (`runtime.GOMAXPROCS`), [`num_goroutine`],
//!   [`blocking`] for calls that block their thread, and
//!   [`#[weft::main]`](main) / [`#[weft::test]`](test);
//! - channels: [`chan`], [`Sender`], [`Receiver`], [`never()`] (the nil
//!   channel), [`select!`], and [`Select`] for cases known at run time
//!   (`reflect.Select`);
//! - [`time`]: `sleep`, `after`, `tick`, `Timer`, `Ticker`, `after_func`;
//! - [`sync`]: `Mutex`, `RwLock`, `WaitGroup`, `Cond`, `Once`, `Semaphore`,
//!   `Pool`;
//! - the library around them: [`context`], [`errgroup`], [`rate`]
//!   (`golang.org/x/time/rate`) and [`patterns`] (the pipeline stages of
//!   "Concurrency in Go");
//! - observing the runtime: [`stats`], [`dump_goroutines`], the execution
//!   [`trace`] (`WEFT_TRACE=PATH`), and [`runtime`] for the parking
//!   primitive and the timer core.
//!
//! docs/guide.md is the tour for a Go programmer, with the differences
//! from Go in one table.
//!
//! # Goroutines move between OS threads
//!
//! A goroutine may stop on one OS thread and go on on another at every
//! scheduling point: a channel operation, a [`sync`] lock, `join`,
//! [`time::sleep`], I/O on [`net`], [`yield_now`], a [`go!`] (the default
//! policy runs the child first), the end of a [`blocking`] call. Go code
//! never notices; Rust code that ties state to the OS thread does. Across
//! a scheduling point, do not hold:
//!
//! - a `thread_local!` value or a borrow of one: use [`goroutine_local!`],
//!   whose values belong to the goroutine and move with it;
//! - a `std::sync::MutexGuard` (or wait on a std lock at all): use
//!   [`sync::Mutex`], which parks instead of blocking the thread;
//! - `std::io::stdout().lock()` or anything else owned by the thread, or
//!   state of a thread-affine C library: use [`lock_os_thread`] for the
//!   stretch that needs one thread.
//!
//! A call that blocks the thread (`std::thread::sleep`, blocking I/O, a
//! std lock) belongs in [`blocking`]; a long loop should [`yield_now`].
//! `WEFT_DEBUG=longrun=MS` (on by default at 50 ms, `0` turns it off)
//! names a goroutine that holds its thread that long without a scheduling
//! point. [`scope`] lends stack data to goroutines, as
//! `std::thread::scope` does.
//!
//! These are rules the compiler cannot check: `go!` and [`spawn`] are safe
//! functions, but a `!Send` value taken from a thread-local and kept
//! across a scheduling point can race with the thread's next goroutine.
//! docs/soundness.md says what breaks, why, and why `spawn` stays safe.
//!
//! ```
//! use std::cell::Cell;
//! weft::goroutine_local! { static SEEN: Cell<u32> = Cell::new(0); }
//! let h = weft::go!(|| {
//!     SEEN.set(1);
//!     weft::time::sleep(std::time::Duration::from_millis(1)); // may move
//!     SEEN.get() // still this goroutine's value
//! });
//! assert_eq!(h.join().unwrap(), 1);
//! ```

// No printing from library code (clippy.toml says why).
#![deny(clippy::disallowed_macros, clippy::disallowed_methods)]

pub use weft_channels::*;
pub use weft_runtime::{
    blocking, current_id, dump_goroutines, go, goroutine_local, lock_os_thread, maxprocs,
    num_goroutine, run, scope, set_maxprocs, spawn, stats, unlock_os_thread, yield_now,
    AccessError, Builder, Config, ConfigError, GoId, JoinError, JoinHandle, LocalKey, PStats,
    Scope, ScopedJoinHandle, SpawnPolicy, Stats, WaitReason,
};

pub use weft_runtime::sync;

pub use weft_macros::{main, test};

// `::weft::...` paths (what `#[weft::main]` expands to) also resolve inside
// this crate's own tests.
extern crate self as weft;

pub mod context;
pub mod errgroup;
#[doc(hidden)]
pub mod __macro_support {
    pub use crate::macro_support::configure;
}
mod macro_support;
pub mod patterns;
pub mod rate;

/// docs/guide.md's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct GuideDoctests;

/// README.md's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The execution trace: `start(path)` / `stop()` (or `WEFT_TRACE=PATH`)
/// record what every M and P ran, as Chrome/Perfetto JSON, a
/// self-contained HTML timeline, or an SVG picture (docs/watching.md).
pub use weft_runtime::trace;

/// Sockets that park goroutines, not threads: TCP, UDP and Unix-domain
/// streams with std::net's methods on an epoll netpoller.
pub use weft_runtime::net;

/// Time: `sleep` (and, from the channels crate, `after`, `tick`, `Timer`,
/// `Ticker`).
pub mod time {
    pub use weft_channels::time::{after, after_func, tick, Ticker, Timer};
    pub use weft_runtime::time::*;
}

/// The runtime's lower layers: the parking primitive and configuration.
pub mod runtime {
    pub use weft_runtime::config;
    pub use weft_runtime::park;
    pub use weft_runtime::timer;
}

/// Go's `test/chan/perm.go`, ported as `compile_fail` doctests (the Go
/// test ports in `tests/golang/`; this item exists only for rustdoc's test
/// run).
#[cfg(doctest)]
#[doc = include_str!("../tests/golang/chan_perm.md")]
pub struct GolangChanPerm;
