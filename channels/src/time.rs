//! Time channels: [`after`], [`tick`], [`Timer`], [`Ticker`],
//! [`after_func`] (Go's `time` package), on the runtime's timer core
//! (`weft::runtime::timer`).
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
/// use weft::{chan, select, time::after};
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
/// let t = weft::time::tick(Duration::from_millis(2));
/// for _ in 0..3 { t.recv().unwrap(); }
/// ```
pub fn tick(d: Duration) -> Receiver<Instant> {
    assert!(!d.is_zero(), "non-positive interval for tick");
    let (tx, c) = make(1, true);
    // The ticker keeps itself alive through its armed timer, and stops
    // re-arming once every receiver is gone.
    let inner = TickerInner::new(tx, d);
    inner.arm(&mut inner.lock(), deadline(d));
    c
}

/// Runs `f` in its own goroutine after `d` (Go's `time.AfterFunc`). The
/// returned timer's `c` is never ready; `stop` prevents the call, and
/// `reset` arms it again (so `f` is `Fn`: as in Go, it may run once per
/// arming).
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = weft::chan(1);
/// let _t = weft::time::after_func(Duration::from_millis(5), move || tx.send(1).unwrap());
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn after_func<F: Fn() + Send + Sync + 'static>(d: Duration, f: F) -> Timer {
    Timer::with_action(never(), Action::Call(Arc::new(f)), d)
}

/// A single event (Go's `time.Timer`): `c` receives the time once, when it
/// fires. Dropping a `Timer` does not stop it (as in Go: `after` relies on
/// that).
///
/// ```
/// use std::time::Duration;
/// use weft::time::Timer;
/// let t = Timer::new(Duration::from_secs(60));
/// assert!(t.stop()); // stopped before it fired
/// assert!(t.reset(Duration::from_millis(1)) == false);
/// t.c.recv().unwrap();
/// ```
pub struct Timer {
    /// Receives the time when the timer fires.
    pub c: Receiver<Instant>,
    shared: Arc<TimerShared>,
}

/// What a firing does.
enum Action {
    /// Offer the time on the timer's channel (never blocks).
    Send(Sender<Instant>),
    /// Run the function in a new goroutine (`after_func`).
    Call(Arc<dyn Fn() + Send + Sync>),
}

/// The part of a [`Timer`] its armed callback shares.
struct TimerShared {
    action: Action,
    /// The arming generation and its runtime timer. A callback acts only if
    /// its generation is current, checked and acted on under this lock, so
    /// once `stop` has bumped the generation (and emptied the channel) no
    /// stale value can arrive (Go 1.23's rule).
    armed: Mutex<Armed>,
}

struct Armed {
    gen: u64,
    id: Option<TimerId>,
}

impl Timer {
    /// A timer that fires after `d`.
    pub fn new(d: Duration) -> Timer {
        let (tx, c) = make(1, true);
        Timer::with_action(c, Action::Send(tx), d)
    }

    fn with_action(c: Receiver<Instant>, action: Action, d: Duration) -> Timer {
        let t = Timer {
            c,
            shared: Arc::new(TimerShared {
                action,
                armed: Mutex::new(Armed { gen: 0, id: None }),
            }),
        };
        t.arm(&mut t.shared.lock(), d);
        t
    }

    fn arm(&self, armed: &mut Armed, d: Duration) {
        let gen = armed.gen;
        let shared = self.shared.clone();
        armed.id = Some(timer::add(deadline(d), move || shared.fire(gen)));
    }

    /// Stops the timer. Returns `true` if it had not fired yet (Go's
    /// `Stop`). A value it had already sent and nobody received is dropped.
    pub fn stop(&self) -> bool {
        self.shared.disarm(&mut self.shared.lock())
    }

    /// Re-arms the timer to fire after `d`; returns whether it was still
    /// pending (Go's `Reset`). No stale value is received afterwards.
    pub fn reset(&self, d: Duration) -> bool {
        let mut armed = self.shared.lock();
        let was_pending = self.shared.disarm(&mut armed);
        self.arm(&mut armed, d);
        was_pending
    }

    fn into_receiver(self) -> Receiver<Instant> {
        self.c
    }
}

impl TimerShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Armed> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The runtime timer of arming `gen` fired (in the scheduler: only
    /// `try_send` and `spawn`, never a park).
    fn fire(&self, gen: u64) {
        let mut armed = self.lock();
        if armed.gen != gen {
            return;
        }
        armed.id = None;
        match &self.action {
            Action::Send(tx) => {
                let _ = tx.try_send(Instant::now());
            }
            Action::Call(f) => {
                let f = f.clone();
                drop(armed);
                weft_runtime::spawn(move || f());
            }
        }
    }

    /// Cancels the current arming; whether it was still pending.
    fn disarm(&self, armed: &mut Armed) -> bool {
        armed.gen += 1;
        let was_pending = armed.id.take().is_some_and(|id| timer::cancel(&id));
        if let Action::Send(tx) = &self.action {
            tx.drain();
        }
        was_pending
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
/// use weft::time::Ticker;
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
    /// The period, the arming generation (bumped by `stop` and `reset`: a
    /// callback of an older arming does nothing) and the runtime timer. A
    /// callback checks the generation and sends under this lock, so after
    /// `stop` no stale tick can arrive.
    state: Mutex<TickerState>,
}

struct TickerState {
    period: Duration,
    gen: u64,
    id: Option<TimerId>,
}

impl TickerInner {
    fn new(tx: Sender<Instant>, period: Duration) -> Arc<TickerInner> {
        Arc::new(TickerInner {
            tx,
            state: Mutex::new(TickerState {
                period,
                gen: 0,
                id: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TickerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn arm(self: &Arc<Self>, st: &mut TickerState, when: Instant) {
        let me = self.clone();
        let gen = st.gen;
        st.id = Some(timer::add(when, move || me.fire(when, gen)));
    }

    /// The tick due at `when` (of arming `gen`) fired: offer the time
    /// without blocking and re-arm on the original grid, skipping ticks
    /// already missed.
    fn fire(self: &Arc<Self>, when: Instant, gen: u64) {
        let mut st = self.lock();
        if st.gen != gen || !self.tx.has_receivers() {
            st.id = None;
            return;
        }
        let _ = self.tx.try_send(Instant::now());
        let period = st.period;
        let now = Instant::now();
        let mut next = when + period;
        if next <= now {
            let behind = now.duration_since(when).as_nanos() / period.as_nanos().max(1);
            next = when + period * (behind as u32).saturating_add(1);
        }
        self.arm(&mut st, next);
    }

    fn stop(&self, st: &mut TickerState) {
        st.gen += 1;
        if let Some(id) = st.id.take() {
            timer::cancel(&id);
        }
        self.tx.drain();
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
        inner.arm(&mut inner.lock(), deadline(d));
        Ticker { c, inner }
    }

    /// Stops the ticker: no more ticks are sent, and a tick already sent
    /// but not received is dropped.
    pub fn stop(&self) {
        self.inner.stop(&mut self.inner.lock());
    }

    /// Stops the ticker and restarts it with period `d`.
    ///
    /// # Panics
    /// If `d` is zero.
    pub fn reset(&self, d: Duration) {
        assert!(!d.is_zero(), "non-positive interval for Ticker::reset");
        let mut st = self.inner.lock();
        self.inner.stop(&mut st);
        st.period = d;
        self.inner.arm(&mut st, deadline(d));
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.inner.stop(&mut self.inner.lock());
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker").finish_non_exhaustive()
    }
}
