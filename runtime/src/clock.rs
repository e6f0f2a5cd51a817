//! The runtime's clocks: a monotonic nanosecond clock and a coarse copy of
//! it that sysmon refreshes.
//!
//! Owns: the epoch every runtime timestamp counts from, [`nanotime`], and
//! [`coarse_now`] — one relaxed load, for ages printed in dumps (a clock
//! read per park would cost more than the park).
//!
//! Bottom layer: depends on nothing else in the crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// The instant every runtime timestamp counts from.
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`], plus one (so that 0 can mean "not set").
pub(crate) fn nanotime() -> u64 {
    epoch().elapsed().as_nanos() as u64 + 1
}

static COARSE: AtomicU64 = AtomicU64::new(0);

/// [`nanotime`] as of sysmon's last pass (at most 10 ms old while anything
/// runs).
#[inline]
pub(crate) fn coarse_now() -> u64 {
    COARSE.load(Ordering::Relaxed)
}

/// Refreshes [`coarse_now`]; sysmon calls this every pass.
pub(crate) fn tick_coarse() {
    COARSE.store(nanotime(), Ordering::Relaxed);
}
