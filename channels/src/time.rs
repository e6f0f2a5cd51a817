//! Time channels: [`after`], [`tick`], [`Timer`], [`Ticker`],
//! [`after_func`] (Go's `time` package), on the runtime's timer core
//! (`weft_runtime::timer`).
//!
//! Owns: the channels timers deliver on, and re-arming tickers. A timer
//! callback runs in the scheduler, so it only ever `try_send`s (never
//! blocks) and re-arms; a slow receiver therefore loses ticks rather than
//! getting a burst (Go's rule). The channels have capacity 1 and are never
//! closed by the timer (Go never closes them); `stop` and `reset` empty the
//! buffer so no stale value is received afterwards (Go 1.23's rule).
//!
//! Must never: block or park inside a timer callback.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_runtime::timer::{self, TimerId};

use crate::chan::{make, never, Receiver, Sender};

pub use weft_runtime::time::{sleep, sleep_until};

fn deadline(d: Duration) -> Instant {
    let now = Instant::now();
    // A duration too large to represent: about as good as never.
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// A channel that receives the time once, after `d` (Go's `time.After`).
///
/// ```
/// use std::time::Duration;
/// use weft_channels::{chan, select, time::after};
/// let (_tx, rx) = chan::<u8>(0);
/// let timed_out = select! {
///     recv(rx) -> _ => false,
///     recv(after(Duration::from_millis(10))) -> _ => true,
/// };
/// assert!(timed_out);
/// ```
pub fn after(d: Duration) -> Receiver<Instant> {
    Timer::new(d).into_receiver()
}

/// A channel that receives the time every `d` for as long as the receiver
/// lives (Go's `time.Tick`).
///
/// # Panics
/// If `d` is zero.
///
/// ```
/// use std::time::Duration;
/// let t = weft_channels::time::tick(Duration::from_millis(2));
/// for _ in 0..3 { t.recv().unwrap(); }
/// ```
pub fn tick(d: Duration) -> Receiver<Instant> {
    assert!(!d.is_zero(), "non-positive interval for tick");
    let (tx, c) = make(1, true);
    // The ticker keeps itself alive through its armed timer, and stops
    // re-arming once every receiver is gone.
    TickerInner::new(tx, d).arm(deadline(d), 0);
    c
}

/// Runs `f` in its own goroutine after `d` (Go's `time.AfterFunc`). The
/// returned timer's `c` is never ready; `stop` prevents the call.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = weft_channels::chan(1);
/// let _t = weft_channels::time::after_func(Duration::from_millis(5), move || tx.send(1).unwrap());
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn after_func<F: FnOnce() + Send + 'static>(d: Duration, f: F) -> Timer {
    let (tx, _) = make::<Instant>(1, true);
    let f: Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>> = Arc::new(Mutex::new(Some(Box::new(f))));
    let t = Timer {
        c: never(),
        tx,
        id: Mutex::new(None),
        func: Some(f),
    };
    t.arm(d);
    t
}

/// A single event (Go's `time.Timer`): `c` receives the time once, when it
/// fires.
///
/// ```
/// use std::time::Duration;
/// use weft_channels::time::Timer;
/// let t = Timer::new(Duration::from_secs(60));
/// assert!(t.stop()); // stopped before it fired
/// assert!(t.reset(Duration::from_millis(1)) == false);
/// t.c.recv().unwrap();
/// ```
pub struct Timer {
    /// Receives the time when the timer fires.
    pub c: Receiver<Instant>,
    tx: Sender<Instant>,
    id: Mutex<Option<TimerId>>,
    func: Option<Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>>,
}

impl Timer {
    /// A timer that fires after `d`.
    pub fn new(d: Duration) -> Timer {
        let (tx, c) = make(1, true);
        let t = Timer {
            c,
            tx,
            id: Mutex::new(None),
            func: None,
        };
        t.arm(d);
        t
    }

    fn arm(&self, d: Duration) {
        let id = match &self.func {
            None => {
                let tx = self.tx.clone();
                timer::add(deadline(d), move || {
                    let _ = tx.try_send(Instant::now());
                })
            }
            Some(f) => {
                let f = f.clone();
                timer::add(deadline(d), move || {
                    let f = f.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(f) = f {
                        weft_runtime::spawn(f);
                    }
                })
            }
        };
        *self.id.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
    }

    /// Stops the timer. Returns `true` if it had not fired yet (Go's
    /// `Stop`). A value it had already sent and nobody received is dropped.
    pub fn stop(&self) -> bool {
        let id = self.id.lock().unwrap_or_else(|e| e.into_inner()).take();
        let was_pending = id.is_some_and(|id| timer::cancel(&id));
        self.tx.drain();
        was_pending
    }

    /// Re-arms the timer to fire after `d`; returns whether it was still
    /// pending (Go's `Reset`). No stale value is received afterwards.
    pub fn reset(&self, d: Duration) -> bool {
        let was_pending = self.stop();
        self.arm(d);
        was_pending
    }

    fn into_receiver(self) -> Receiver<Instant> {
        self.c.clone()
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").finish_non_exhaustive()
    }
}

/// Repeated events (Go's `time.Ticker`): `c` receives the time every
/// period; a slow receiver loses ticks instead of getting a burst.
/// Dropping the ticker stops it.
///
/// ```
/// use std::time::Duration;
/// use weft_channels::time::Ticker;
/// let t = Ticker::new(Duration::from_millis(2));
/// t.c.recv().unwrap();
/// t.c.recv().unwrap();
/// t.stop();
/// ```
pub struct Ticker {
    /// Receives the time at every tick.
    pub c: Receiver<Instant>,
    inner: Arc<TickerInner>,
}

struct TickerInner {
    tx: Sender<Instant>,
    /// Bumped by `stop` and `reset`: a callback of an older arming does
    /// nothing.
    gen: AtomicU64,
    state: Mutex<(Duration, Option<TimerId>)>,
}

impl TickerInner {
    fn new(tx: Sender<Instant>, period: Duration) -> Arc<TickerInner> {
        Arc::new(TickerInner {
            tx,
            gen: AtomicU64::new(0),
            state: Mutex::new((period, None)),
        })
    }

    fn arm(self: &Arc<Self>, when: Instant, gen: u64) {
        let me = self.clone();
        let id = timer::add(when, move || me.fire(when, gen));
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.gen.load(Ordering::Acquire) == gen {
            st.1 = Some(id);
        } else {
            timer::cancel(&id);
        }
    }

    fn fire(self: &Arc<Self>, when: Instant, gen: u64) {
        if self.gen.load(Ordering::Acquire) != gen || !self.tx.has_receivers() {
            return;
        }
        let _ = self.tx.try_send(Instant::now());
        let period = self.state.lock().unwrap_or_else(|e| e.into_inner()).0;
        // The next tick is on the original grid; missed ticks are skipped.
        let now = Instant::now();
        let mut next = when + period;
        if next <= now {
            let behind = now.duration_since(when).as_nanos() / period.as_nanos().max(1);
            next = when + period * (behind as u32).saturating_add(1);
        }
        self.arm(next, gen);
    }

    fn stop(&self) -> u64 {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let gen = self.gen.fetch_add(1, Ordering::AcqRel) + 1;
        if let Some(id) = st.1.take() {
            timer::cancel(&id);
        }
        drop(st);
        self.tx.drain();
        gen
    }
}

impl Ticker {
    /// A ticker with period `d`.
    ///
    /// # Panics
    /// If `d` is zero (Go panics too: "non-positive interval for NewTicker").
    pub fn new(d: Duration) -> Ticker {
        assert!(!d.is_zero(), "non-positive interval for Ticker::new");
        let (tx, c) = make(1, true);
        let inner = TickerInner::new(tx, d);
        inner.arm(deadline(d), 0);
        Ticker { c, inner }
    }

    /// Stops the ticker: no more ticks are sent, and a tick already sent
    /// but not received is dropped.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Stops the ticker and restarts it with period `d`.
    ///
    /// # Panics
    /// If `d` is zero.
    pub fn reset(&self, d: Duration) {
        assert!(!d.is_zero(), "non-positive interval for Ticker::reset");
        let gen = self.inner.stop();
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner()).0 = d;
        self.inner.arm(deadline(d), gen);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.inner.stop();
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker").finish_non_exhaustive()
    }
}
