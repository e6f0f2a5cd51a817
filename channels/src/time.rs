//! Time channels: [`after`], [`tick`], [`Timer`], [`Ticker`],
//! [`after_func`] (Go's `time` package), on the runtime's timer core
//! (`weft::runtime::timer`). The semantics, beside Go's wording:
//! `docs/timers.md`.
//!
//! Owns: the channels timers deliver on, the arming state of each timer and
//! ticker, and re-arming tickers. Go 1.23's rules hold:
//! - **synchronous channels**: a value the timer sent and nobody received
//!   was never delivered. `stop` and `reset` take it back out of the
//!   channel and report the timer as stopped (`true`), so Go's idiom
//!   `if !t.Stop() { <-t.C }` never blocks; `len` and `cap` of a time
//!   channel report 0. (Inside, the channel has one slot: a callback must
//!   never block.)
//! - **no race with firing**: a timer counts as pending until its callback
//!   has *acted* (sent, or spawned `after_func`'s goroutine) under the
//!   timer's lock, not merely until the runtime popped it from the heap; a
//!   callback of an older arming does nothing. So `stop` returning `true`
//!   means nothing arrives, and `false` means the value arrived or is there
//!   to receive.
//! - **unreachable timers leave the heap**: when the last `Receiver` of a
//!   timer's or ticker's channel is dropped, the channel's hook
//!   ([`TimeChan`]) cancels the runtime timer at once.
//!
//! A slow ticker receiver loses ticks rather than getting a burst (Go's
//! rule). Lock order: a timer's own lock, then its channel's lock, then
//! the runtime's heap lock.
//!
//! Must never: block or park inside a timer callback; hold a strong
//! reference from a channel to its timer (the channel's hook holds a
//! `Weak`: the timer owns the `Sender`, a cycle would never be freed).

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use weft_runtime::timer::{self, deadline_after, TimerId};

use crate::chan::{make, never, Receiver, Sender};

pub use weft_runtime::time::{sleep, sleep_until};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The time-channel part of a channel (held by `chan::Chan`, which calls
/// [`TimeChan::receivers_gone`] when its last `Receiver` drops).
#[derive(Default)]
pub(crate) struct TimeChan {
    /// Stops the timer feeding this channel. Set once, right after the
    /// channel is made, before any `Receiver` is handed out.
    on_receivers_gone: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl TimeChan {
    /// Nobody can receive from the channel any more: stop its timer, so it
    /// leaves the heap now rather than when it would have fired.
    pub(crate) fn receivers_gone(&self) {
        if let Some(f) = self.on_receivers_gone.get() {
            f();
        }
    }
}

/// A time channel and the state of the timer feeding it; `stop(&state)`
/// runs once every receiver of the channel is gone.
fn time_chan<S: Send + Sync + 'static>(
    make_state: impl FnOnce(Sender<Instant>) -> Arc<S>,
    stop: fn(&S),
) -> (Arc<S>, Receiver<Instant>) {
    let (tx, rx) = make(1, Some(Box::default()));
    let hook_tx = tx.clone();
    let state = make_state(tx);
    let weak: Weak<S> = Arc::downgrade(&state);
    let hook: Box<dyn Fn() + Send + Sync> = Box::new(move || {
        if let Some(s) = weak.upgrade() {
            stop(&s);
        }
    });
    let set = hook_tx
        .time_chan()
        .is_some_and(|t| t.on_receivers_gone.set(hook).is_ok());
    if !set {
        crate::throw("time channel: no hook slot, or its hook was set twice");
    }
    (state, rx)
}

/// A channel that receives the time once, after `d` (Go's `time.After`).
/// Dropping the receiver (e.g. at the end of the `select!` that used it)
/// stops the timer.
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

/// A channel that receives the time every `d` for as long as a receiver
/// lives (Go's `time.Tick`); dropping the last receiver stops it.
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
    let (inner, c) = time_chan(|tx| TickerInner::new(tx, d), TickerInner::stop_now);
    inner.arm(&mut inner.lock(), deadline_after(d));
    c
}

/// Runs `f` in its own goroutine after `d` (Go's `time.AfterFunc`). The
/// returned timer's `c` is never ready; `stop` prevents the call (it
/// returns `true` if `f` had not been started), and `reset` arms it again
/// (so `f` is `Fn`: as in Go, it may run once per arming). Dropping the
/// returned `Timer` does not stop it.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = weft::chan(1);
/// let _t = weft::time::after_func(Duration::from_millis(5), move || tx.send(1).unwrap());
/// assert_eq!(rx.recv(), Ok(1));
/// ```
#[track_caller] // `f`'s goroutines are created by the caller
pub fn after_func<F: Fn() + Send + Sync + 'static>(d: Duration, f: F) -> Timer {
    let t = Timer {
        c: never(),
        shared: TimerShared::new(Action::Call(Arc::new(f), Location::caller())),
    };
    t.shared.arm(&mut t.shared.lock(), d);
    t
}

/// A single event (Go's `time.Timer`): `c` receives the time once, when it
/// fires. Dropping the `Timer` while a clone of `c` lives does not stop it;
/// once every receiver of `c` is gone the timer stops (nobody could see it
/// fire).
///
/// `stop` and `reset` follow Go 1.23: they return `true` when the timer had
/// not delivered its value — it had not fired, or it fired and nobody
/// received the value (which is then gone). So after `stop` or `reset`, no
/// stale value is ever received.
///
/// ```
/// use std::time::Duration;
/// use weft::time::Timer;
/// let t = Timer::new(Duration::from_secs(60));
/// assert!(t.stop()); // stopped before it fired
/// assert!(!t.reset(Duration::from_millis(1))); // it was stopped already
/// t.c.recv().unwrap();
/// assert!(!t.stop()); // fired, and the value was received
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
    /// Run the function in a new goroutine (`after_func`), created at
    /// `after_func`'s caller.
    Call(Arc<dyn Fn() + Send + Sync>, &'static Location<'static>),
}

/// The part of a [`Timer`] its armed callback shares.
struct TimerShared {
    action: Action,
    armed: Mutex<Armed>,
}

/// A timer's arming, under `TimerShared::armed`.
struct Armed {
    /// The arming generation. A callback acts only if its generation is
    /// still current; `stop` and `reset` bump it, so the callback of an
    /// arming they ended — even one the runtime already popped from the
    /// heap — does nothing.
    gen: u64,
    /// `Some` while the current arming has not acted: Go's "pending". The
    /// callback sets it to `None` (under this lock) as it sends or spawns.
    id: Option<TimerId>,
}

impl Timer {
    /// A timer that fires after `d`.
    pub fn new(d: Duration) -> Timer {
        let (shared, c) = time_chan(
            |tx| TimerShared::new(Action::Send(tx)),
            TimerShared::receivers_gone,
        );
        shared.arm(&mut shared.lock(), d);
        Timer { c, shared }
    }

    /// Stops the timer (Go's `Stop`). Returns `true` if the call stopped
    /// it: it had not fired, or it had fired and its value was not
    /// received (the value is dropped: it was never delivered). `false`:
    /// the value was received, or the timer was stopped already.
    pub fn stop(&self) -> bool {
        self.shared.disarm(&mut self.shared.lock())
    }

    /// Re-arms the timer to fire after `d` (Go's `Reset`); returns what
    /// [`stop`](Timer::stop) would have. No stale value is received
    /// afterwards.
    pub fn reset(&self, d: Duration) -> bool {
        let mut armed = self.shared.lock();
        let was_pending = self.shared.disarm(&mut armed);
        self.shared.arm(&mut armed, d);
        was_pending
    }

    fn into_receiver(self) -> Receiver<Instant> {
        self.c
    }
}

impl TimerShared {
    fn new(action: Action) -> Arc<TimerShared> {
        Arc::new(TimerShared {
            action,
            armed: Mutex::new(Armed { gen: 0, id: None }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Armed> {
        lock(&self.armed)
    }

    /// Starts arming `armed.gen` (the previous one is disarmed).
    fn arm(self: &Arc<Self>, armed: &mut Armed, d: Duration) {
        let gen = armed.gen;
        let shared = self.clone();
        armed.id = Some(timer::add(deadline_after(d), move || shared.fire(gen)));
    }

    /// The runtime timer of arming `gen` fired (in the scheduler: only
    /// `try_send` and `spawn`, never a park).
    fn fire(&self, gen: u64) {
        let mut armed = self.lock();
        if armed.gen != gen || armed.id.is_none() {
            return; // stopped or reset after the runtime popped this timer
        }
        armed.id = None;
        match &self.action {
            Action::Send(tx) => {
                let _ = tx.try_send(Instant::now());
            }
            Action::Call(f, site) => {
                let f = f.clone();
                drop(armed);
                weft_runtime::spawn_at(move || f(), site);
            }
        }
    }

    /// Ends the current arming; whether it had not delivered (Go 1.23's
    /// `Stop` result).
    fn disarm(&self, armed: &mut Armed) -> bool {
        armed.gen += 1;
        let pending = armed.id.take().map(|id| timer::cancel(&id)).is_some();
        // Fired but not received: take the value back (never delivered).
        let undelivered = match &self.action {
            Action::Send(tx) => tx.drain(),
            Action::Call(..) => false,
        };
        pending || undelivered
    }

    /// Every receiver of the channel is gone: take the timer out of the
    /// heap. `id` stays, so a later `stop` still reports the value as never
    /// delivered.
    fn receivers_gone(&self) {
        let armed = self.lock();
        if let Some(id) = &armed.id {
            timer::cancel(id);
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").finish_non_exhaustive()
    }
}

/// Repeated events (Go's `time.Ticker`): `c` receives the time every
/// period; a slow receiver loses ticks instead of getting a burst.
/// Dropping the ticker (or every receiver of `c`) stops it.
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

    fn lock(&self) -> MutexGuard<'_, TickerState> {
        lock(&self.state)
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

    /// Stops the ticker (the receivers-gone hook and `Drop`).
    fn stop_now(&self) {
        self.stop(&mut self.lock());
    }
}

impl Ticker {
    /// A ticker with period `d`.
    ///
    /// # Panics
    /// If `d` is zero (Go panics too: "non-positive interval for NewTicker").
    pub fn new(d: Duration) -> Ticker {
        assert!(!d.is_zero(), "non-positive interval for Ticker::new");
        let (inner, c) = time_chan(|tx| TickerInner::new(tx, d), TickerInner::stop_now);
        inner.arm(&mut inner.lock(), deadline_after(d));
        Ticker { c, inner }
    }

    /// Stops the ticker: no more ticks are sent, and a tick already sent
    /// but not received is dropped.
    pub fn stop(&self) {
        self.inner.stop_now();
    }

    /// Stops the ticker and restarts it with period `d`: the next tick
    /// arrives `d` from now.
    ///
    /// # Panics
    /// If `d` is zero.
    pub fn reset(&self, d: Duration) {
        assert!(!d.is_zero(), "non-positive interval for Ticker::reset");
        let mut st = self.inner.lock();
        self.inner.stop(&mut st);
        st.period = d;
        self.inner.arm(&mut st, deadline_after(d));
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.inner.stop_now();
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker").finish_non_exhaustive()
    }
}
