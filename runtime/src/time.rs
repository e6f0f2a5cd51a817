//! Sleeping: Go's `time.Sleep` on the timer core.
//!
//! Owns: [`sleep`]. The channel forms (`after`, `tick`, `Timer`, `Ticker`)
//! live in `weft-channels`, built on [`crate::timer`].
//!
//! Must never: block an M's OS thread while a goroutine sleeps.

use std::time::{Duration, Instant};

use crate::park::Waiter;
use crate::{timer, WaitReason};

/// Pauses the current goroutine for at least `d` (Go's `time.Sleep`). The
/// goroutine parks with wait reason "sleep" and its M runs others; on a
/// plain thread or inside `weft::blocking`, sleeps the thread. A zero
/// duration returns at once; one too large to represent (`Duration::MAX`)
/// sleeps for a century.
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
    if crate::g::current().is_none() {
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
    if crate::g::current().is_none() {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        return;
    }
    // The wait record lives on this stack: the timer is never cancelled,
    // and the sleeper leaves only once the wake-up has finished with it.
    let w = Waiter::new();
    let wake = timer::Wake {
        f: wake_sleeper,
        arg: (&raw const w).cast(),
    };
    // SAFETY: `wake_sleeper` runs once, on whichever M fires the timer;
    // nothing but this timer names `w`, so its claim is the only one; `w`
    // outlives that call because `wait` below returns only after the
    // wake-up stored DONE, its last touch of the record.
    unsafe { timer::add_wake(deadline, wake) };
    w.wait(WaitReason::Sleep, || {});
}

/// The sleeper's timer: claims its wait record and wakes it.
///
/// # Safety
///
/// `arg` is a sleeper's `Waiter` still waiting (see `sleep_until`), and
/// this is the only claim on it.
unsafe fn wake_sleeper(arg: *const ()) {
    let record = arg.cast::<Waiter>();
    // SAFETY: the caller's contract: the record is alive and this is its
    // only claimer, once.
    unsafe {
        (*record).claim_exclusive(0);
        Waiter::wake(record);
    }
}
