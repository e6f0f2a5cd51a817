//! weft: Go's concurrency for Rust — goroutines on an M:N work-stealing
//! scheduler, channels and `select!`, all on one parking primitive.
//!
//! This is the facade crate: everything an application needs is here.
//!
//! ```
//! let h = weft::go!(move || 6 * 7);
//! assert_eq!(h.join().unwrap(), 42);
//! ```

pub use weft_channels::*;
pub use weft_runtime::{
    blocking, current_id, dump_goroutines, go, maxprocs, num_goroutine, run, set_maxprocs, spawn,
    stats, yield_now, Builder, Config, ConfigError, GoId, JoinError, JoinHandle, PStats,
    SpawnPolicy, Stats, WaitReason,
};

pub use weft_runtime::sync;

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
