//! Sleeping: Go's `time.Sleep` on the timer core.
//!
//! Owns: [`sleep`]. The channel forms (`after`, `tick`, `Timer`, `Ticker`)
//! live in `weft-channels`, built on [`crate::timer`].
//!
//! Must never: block an M's OS thread while a goroutine sleeps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::park::{park, unparker};
use crate::{timer, WaitReason};

/// Pauses the current goroutine for at least `d` (Go's `time.Sleep`). The
/// goroutine parks with wait reason "sleep" and its M runs others; on a
/// plain thread, sleeps the thread. A zero duration returns at once; one
/// too large to represent (`Duration::MAX`) sleeps for a century.
///
/// ```
/// use std::time::{Duration, Instant};
/// let t = Instant::now();
/// weft::run(|| weft::time::sleep(Duration::from_millis(10)));
/// assert!(t.elapsed() >= Duration::from_millis(10));
/// ```
pub fn sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    if crate::current_id().is_none() {
        std::thread::sleep(d);
        return;
    }
    sleep_until(timer::deadline_after(d));
}

/// Pauses the current goroutine until `deadline` (at once if it has passed).
///
/// ```
/// use std::time::{Duration, Instant};
/// let until = Instant::now() + Duration::from_millis(5);
/// weft::run(move || weft::time::sleep_until(until));
/// assert!(Instant::now() >= until);
/// ```
pub fn sleep_until(deadline: Instant) {
    if Instant::now() >= deadline {
        return;
    }
    if crate::current_id().is_none() {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        return;
    }
    let fired = Arc::new(AtomicBool::new(false));
    let (f, me) = (fired.clone(), unparker());
    timer::add(deadline, move || {
        f.store(true, Ordering::Release);
        me.unpark();
    });
    while !fired.load(Ordering::Acquire) {
        park(WaitReason::Sleep, || {});
    }
}
