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
//! - observing the runtime: [`stats`], [`dump_goroutines`], and
//!   [`runtime`] for the parking primitive and the timer core.
//!
//! docs/guide.md is the tour for a Go programmer, with the differences
//! from Go in one table.

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
