//! `nap`, shared by the sync tests (sync_matrix.rs, sync_starvation.rs).

use std::time::{Duration, Instant};

use weft_runtime as weft;

/// The seed programs' `time.Sleep(d)`: weft's runtime has no timers in this
/// crate, so wait out `d` while yielding (a sleeping goroutine lets others
/// run, and so does this).
pub fn nap(d: Duration) {
    let end = Instant::now() + d;
    loop {
        weft::yield_now();
        if Instant::now() >= end {
            return;
        }
    }
}
