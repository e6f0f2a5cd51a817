//! The seed material's reusable pipeline stages ("Concurrency in Go",
//! chapter 4, and the Go Concurrency Guide), as functions over channels:
//! [`generator`], [`repeat`], [`repeat_fn`], [`take`], [`or`],
//! [`or_done`], [`tee`], [`bridge`], [`fan_in`], and the [`heartbeat`]
//! and [`steward`] helpers of chapter 5.
//!
//! ```
//! use weft::{chan, patterns};
//! let (done_tx, done) = chan::<()>(0);
//! // Go: for num := range take(done, repeat(done, 1), 10)
//! let ones: Vec<i32> = patterns::take(&done, patterns::repeat(&done, vec![1]), 10)
//!     .iter()
//!     .collect();
//! assert_eq!(ones, [1; 10]);
//! drop(done_tx); // Go's close(done): every stage's goroutine returns
//! ```
//!
//! As in the seeds, the done channel comes first. A stage's goroutine
//! returns — and closes the channel it returned, by dropping its sender —
//! when `done` closes (or receives a value), when its input closes, or
//! when every receiver of its output is gone (a send then fails: Rust's
//! addition, so a consumer that stops reading does not leak the stage).
//! A context works as the done channel: pass `&ctx.done()`.
//!
//! Owns: nothing shared. Each stage is one goroutine owning its output's
//! sender and its inputs' receivers.
//!
//! Must never: block on a send or a receive without also waiting on
//! `done`; keep running after `done` closes.

use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_channels::time::{Ticker, Timer};
use weft_channels::{chan, never, never_sender, select, Receiver, Select, Sender};
use weft_runtime::{spawn, spawn_at};

/// What a receive that also watches `done` got.
enum Got<T> {
    Value(T),
    Closed,
    Done,
}

fn recv_or_done<T>(done: &Receiver<()>, rx: &Receiver<T>) -> Got<T> {
    select! {
        recv(done) -> _ => Got::Done,
        recv(rx) -> v => match v {
            Ok(v) => Got::Value(v),
            Err(_) => Got::Closed,
        },
    }
}

/// Sends `v` unless `done` comes first; `false`: stop (done, or nobody
/// will ever receive).
fn send_or_done<T>(done: &Receiver<()>, tx: &Sender<T>, v: T) -> bool {
    select! {
        recv(done) -> _ => false,
        send(tx, v) -> r => r.is_ok(),
    }
}

/// A stage: an unbuffered output channel and the goroutine that feeds it,
/// created at the caller's caller (the public function's user).
#[track_caller]
fn stage<T: Send + 'static>(body: impl FnOnce(Sender<T>) + Send + 'static) -> Receiver<T> {
    let (tx, rx) = chan(0);
    spawn(move || body(tx));
    rx
}

/// Sends each of `values` in turn, then closes (the seeds' `generator`).
///
/// ```
/// use weft::{chan, patterns::generator};
/// let (_done_tx, done) = chan::<()>(0);
/// let got: Vec<i32> = generator(&done, [1, 2, 3, 4]).iter().collect();
/// assert_eq!(got, [1, 2, 3, 4]);
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn generator<T, I>(done: &Receiver<()>, values: I) -> Receiver<T>
where
    T: Send + 'static,
    I: IntoIterator<Item = T>,
    I::IntoIter: Send + 'static,
{
    let done = done.clone();
    let values = values.into_iter();
    stage(move |out| {
        for v in values {
            if !send_or_done(&done, &out, v) {
                return;
            }
        }
    })
}

/// Sends `values` over and over, in order, until `done` (the seeds'
/// `repeat`). With no values, the channel closes at once.
///
/// ```
/// use weft::{chan, patterns::{repeat, take}};
/// let (_done_tx, done) = chan::<()>(0);
/// let got: Vec<i32> = take(&done, repeat(&done, vec![1, 2]), 5).iter().collect();
/// assert_eq!(got, [1, 2, 1, 2, 1]);
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn repeat<T: Clone + Send + 'static>(done: &Receiver<()>, values: Vec<T>) -> Receiver<T> {
    let done = done.clone();
    stage(move |out| {
        if values.is_empty() {
            return;
        }
        loop {
            for v in &values {
                if !send_or_done(&done, &out, v.clone()) {
                    return;
                }
            }
        }
    })
}

/// Sends `f()` over and over until `done` (the seeds' `repeatFn`).
///
/// ```
/// use weft::{chan, patterns::{repeat_fn, take}};
/// let (_done_tx, done) = chan::<()>(0);
/// let mut n = 0;
/// let counter = repeat_fn(&done, move || { n += 1; n });
/// assert_eq!(take(&done, counter, 3).iter().collect::<Vec<_>>(), [1, 2, 3]);
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn repeat_fn<T: Send + 'static>(
    done: &Receiver<()>,
    mut f: impl FnMut() -> T + Send + 'static,
) -> Receiver<T> {
    let done = done.clone();
    stage(move |out| while send_or_done(&done, &out, f()) {})
}

/// Passes on the first `n` values of `input`, then closes (the seeds'
/// `take`); closes early if `input` does.
///
/// ```
/// use weft::{chan, patterns::{generator, take}};
/// let (_done_tx, done) = chan::<()>(0);
/// let got: Vec<u8> = take(&done, generator(&done, 1..=100), 3).iter().collect();
/// assert_eq!(got, [1, 2, 3]);
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn take<T: Send + 'static>(done: &Receiver<()>, input: Receiver<T>, n: usize) -> Receiver<T> {
    let done = done.clone();
    stage(move |out| {
        for _ in 0..n {
            match recv_or_done(&done, &input) {
                Got::Value(v) => {
                    if !send_or_done(&done, &out, v) {
                        return;
                    }
                }
                Got::Closed | Got::Done => return,
            }
        }
    })
}

/// One channel that closes as soon as any of `channels` closes or
/// receives a value (the seeds' or-channel). One goroutine waits on all of
/// them with a [`Select`] (the seed recurses, a goroutine per three
/// channels). No channels: never ready (Go returns nil); one: itself.
///
/// ```
/// use std::time::{Duration, Instant};
/// use weft::{chan, patterns::or, Receiver};
/// fn sig(after: Duration) -> Receiver<()> {
///     let (tx, rx) = chan(0);
///     weft::go!(move || { weft::time::sleep(after); drop(tx) });
///     rx
/// }
/// let start = Instant::now();
/// let _ = or(vec![sig(Duration::from_secs(3600)), sig(Duration::from_millis(10))]).recv();
/// assert!(start.elapsed() < Duration::from_secs(60));
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn or<T: Send + 'static>(mut channels: Vec<Receiver<T>>) -> Receiver<T> {
    match channels.len() {
        0 => return never(),
        1 => return channels.pop().unwrap_or_else(never),
        _ => {}
    }
    stage(move |out: Sender<T>| {
        let mut sel = Select::new();
        for c in &channels {
            sel.recv(c);
        }
        let op = sel.select();
        let i = op.index();
        drop(op.recv(&channels[i]));
        drop(out); // closes the or-channel
    })
}

/// Reads `input` until it closes or `done` does (the seeds' or-done
/// channel): `for v in &or_done(&done, rx)` replaces a `for`/`select` on
/// both.
///
/// ```
/// use weft::{chan, patterns::{or_done, repeat}};
/// let (done_tx, done) = chan::<()>(0);
/// let mut n = 0;
/// for v in &or_done(&done, repeat(&done, vec![7])) {
///     assert_eq!(v, 7);
///     n += 1;
///     if n == 3 {
///         drop(done_tx);
///         break;
///     }
/// }
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn or_done<T: Send + 'static>(done: &Receiver<()>, input: Receiver<T>) -> Receiver<T> {
    let done = done.clone();
    stage(move |out| loop {
        match recv_or_done(&done, &input) {
            Got::Value(v) => {
                if !send_or_done(&done, &out, v) {
                    return;
                }
            }
            Got::Closed | Got::Done => return,
        }
    })
}

/// Splits `input` in two: each value goes to both outputs, in either
/// order, before the next is read (the seeds' tee-channel), so a slow
/// reader of one output holds up the other. If every reader of one output
/// is gone, the other goes on alone.
///
/// ```
/// use weft::{chan, patterns::{repeat, take, tee}};
/// let (_done_tx, done) = chan::<()>(0);
/// let (out1, out2) = tee(&done, take(&done, repeat(&done, vec![1, 2]), 4));
/// for v1 in &out1 {
///     assert_eq!(v1, out2.recv().unwrap());
/// }
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn tee<T: Clone + Send + 'static>(
    done: &Receiver<()>,
    input: Receiver<T>,
) -> (Receiver<T>, Receiver<T>) {
    let done = done.clone();
    let (tx1, rx1) = chan(0);
    let (tx2, rx2) = chan(0);
    spawn(move || {
        let off = never_sender::<T>();
        // `false` once every reader of that output is gone.
        let mut alive = [true, true];
        while alive[0] || alive[1] {
            let v = match recv_or_done(&done, &input) {
                Got::Value(v) => v,
                Got::Closed | Got::Done => return,
            };
            // Go's trick: a case whose send is done is switched off (its
            // channel set to nil) so the other can complete.
            let mut pending = alive;
            while pending[0] || pending[1] {
                let o1 = if pending[0] { &tx1 } else { &off };
                let o2 = if pending[1] { &tx2 } else { &off };
                select! {
                    recv(done) -> _ => return,
                    send(o1, v.clone()) -> r => {
                        pending[0] = false;
                        alive[0] = r.is_ok();
                    },
                    send(o2, v.clone()) -> r => {
                        pending[1] = false;
                        alive[1] = r.is_ok();
                    },
                }
            }
        }
    });
    (rx1, rx2)
}

/// Flattens a channel of channels into one channel, reading each inner
/// channel to its end before the next (the seeds' bridge-channel).
///
/// ```
/// use weft::{chan, patterns::bridge, Receiver};
/// let (_done_tx, done) = chan::<()>(0);
/// let (streams_tx, streams) = chan::<Receiver<i32>>(0);
/// weft::go!(move || {
///     for i in 0..10 {
///         let (tx, rx) = chan(1);
///         tx.send(i).unwrap();
///         streams_tx.send(rx).unwrap();
///     }
/// });
/// let got: Vec<i32> = bridge(&done, streams).iter().collect();
/// assert_eq!(got, (0..10).collect::<Vec<_>>());
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn bridge<T: Send + 'static>(
    done: &Receiver<()>,
    streams: Receiver<Receiver<T>>,
) -> Receiver<T> {
    let done = done.clone();
    stage(move |out| loop {
        let stream = match recv_or_done(&done, &streams) {
            Got::Value(s) => s,
            Got::Closed | Got::Done => return,
        };
        loop {
            match recv_or_done(&done, &stream) {
                Got::Value(v) => {
                    if !send_or_done(&done, &out, v) {
                        return;
                    }
                }
                Got::Closed => break,
                Got::Done => return,
            }
        }
    })
}

/// Merges `channels` into one channel that closes when all of them have
/// (fan-in). One goroutine waits on every input with a [`Select`], so the
/// inputs are served fairly (the seeds start a goroutine per input).
///
/// ```
/// use weft::{chan, patterns::{fan_in, generator}};
/// let (_done_tx, done) = chan::<()>(0);
/// let merged = fan_in(&done, vec![generator(&done, 0..5), generator(&done, 5..10)]);
/// let mut got: Vec<i32> = merged.iter().collect();
/// got.sort();
/// assert_eq!(got, (0..10).collect::<Vec<_>>());
/// ```
#[track_caller] // the stage's goroutine is created by the caller
pub fn fan_in<T: Send + 'static>(done: &Receiver<()>, channels: Vec<Receiver<T>>) -> Receiver<T> {
    let done = done.clone();
    stage(move |out| {
        let mut sel = Select::new();
        for c in &channels {
            sel.recv(c);
        }
        let d = sel.recv(&done);
        let mut open = channels.len();
        while open > 0 {
            let op = sel.select();
            let i = op.index();
            if i == d {
                return;
            }
            match op.recv(&channels[i]) {
                Ok(v) => {
                    if !send_or_done(&done, &out, v) {
                        return;
                    }
                }
                Err(_) => {
                    sel.remove(i);
                    open -= 1;
                }
            }
        }
    })
}

/// The sending side of a heartbeat (the seeds' "heartbeats", chapter 5):
/// a worker calls [`beat`](Self::beat) to signal it is alive — at the start
/// of each unit of work, or on every [`tick`](Self::tick) of its interval
/// from inside its `select!` loop. A beat never blocks: if the last one has
/// not been read, the new one is dropped (Go's `select` with `default`).
/// Dropping the `Heartbeat` closes the beats channel and stops its ticker.
///
/// ```
/// // A heartbeat at the start of each unit of work.
/// let (hb, beats) = weft::patterns::heartbeat(std::time::Duration::ZERO);
/// let worker = weft::go!(move || {
///     for _unit in 0..3 {
///         hb.beat();
///         // work
///     }
/// });
/// worker.join().unwrap();
/// assert_eq!(beats.iter().count(), 1); // beats nobody read in time were dropped
/// ```
pub struct Heartbeat {
    tx: Sender<()>,
    ticker: Option<Ticker>,
    off: Receiver<Instant>,
}

/// A heartbeat that ticks every `interval` (zero: no ticks; beat per unit
/// of work), and the channel its beats arrive on (capacity 1).
///
/// The seed's worker that pulses while it waits for work:
///
/// ```
/// use std::time::{Duration, Instant};
/// use weft::{chan, patterns::heartbeat, select, Receiver};
///
/// fn do_work(done: Receiver<()>, pulse: Duration) -> (Receiver<()>, Receiver<Instant>) {
///     let (hb, beats) = heartbeat(pulse);
///     let (results_tx, results) = chan(0);
///     weft::go!(move || {
///         let work = weft::time::tick(pulse * 2); // work coming in
///         loop {
///             select! {
///                 recv(done) -> _ => return,
///                 recv(hb.tick()) -> _ => hb.beat(),
///                 recv(work) -> r => {
///                     if results_tx.send(r.unwrap()).is_err() { return }
///                 }
///             }
///         }
///     });
///     (beats, results)
/// }
///
/// let (done_tx, done) = chan::<()>(0);
/// let (beats, results) = do_work(done, Duration::from_millis(5));
/// assert!(beats.recv().is_ok()); // alive
/// assert!(results.recv().is_ok());
/// drop(done_tx);
/// ```
pub fn heartbeat(interval: Duration) -> (Heartbeat, Receiver<()>) {
    let (tx, rx) = chan(1);
    let ticker = (!interval.is_zero()).then(|| Ticker::new(interval));
    (
        Heartbeat {
            tx,
            ticker,
            off: never(),
        },
        rx,
    )
}

impl Heartbeat {
    /// Signals "alive" without blocking.
    ///
    /// ```
    /// let (hb, beats) = weft::patterns::heartbeat(std::time::Duration::ZERO);
    /// hb.beat();
    /// hb.beat(); // dropped: the first is still unread
    /// assert_eq!(beats.len(), 1);
    /// ```
    pub fn beat(&self) {
        let _ = self.tx.try_send(());
    }

    /// The interval's ticks, for a `recv` case in the worker's `select!`
    /// loop; never ready for a heartbeat without an interval.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (hb, beats) = weft::patterns::heartbeat(Duration::from_millis(1));
    /// hb.tick().recv().unwrap(); // a tick: time to beat
    /// hb.beat();
    /// assert_eq!(beats.recv(), Ok(()));
    /// ```
    pub fn tick(&self) -> &Receiver<Instant> {
        match &self.ticker {
            Some(t) => &t.c,
            None => &self.off,
        }
    }
}

impl std::fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heartbeat")
            .field("interval", &self.ticker.is_some())
            .finish_non_exhaustive()
    }
}

/// Watches a goroutine (the *ward*) and restarts it when it stops
/// beating for `timeout` (the seeds' steward, "Healing Unhealthy
/// Goroutines"). `start(done, pulse)` starts the ward and returns its
/// heartbeat channel; the ward should beat at least every `pulse`
/// (`timeout / 2` is passed) and stop when `done` closes.
///
/// Returns a function of the same shape, so a steward can be a ward of
/// another steward: calling it starts the steward's goroutine with its own
/// done channel and pulse interval and returns the steward's heartbeat.
/// When `done` closes, the steward and its current ward stop. A ward
/// whose heartbeat channel closes (it returned) is restarted at the next
/// timeout.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use weft::{chan, patterns::steward, Receiver};
///
/// let starts = Arc::new(AtomicU32::new(0));
/// let s = starts.clone();
/// // An irresponsible ward: never beats, just waits to be stopped.
/// let ward = move |done: Receiver<()>, _pulse: Duration| {
///     s.fetch_add(1, Ordering::SeqCst);
///     let (_hb_tx, hb) = chan::<()>(0);
///     weft::go!(move || { let _keep = _hb_tx; for _ in &done {} });
///     hb
/// };
/// let start = steward(Duration::from_millis(10), ward);
/// let (done_tx, done) = chan::<()>(0);
/// let _beats = start(done, Duration::from_millis(5));
/// while starts.load(Ordering::SeqCst) < 3 {
///     weft::time::sleep(Duration::from_millis(2));
/// }
/// drop(done_tx); // stops the steward and its ward
/// ```
#[track_caller] // the steward's goroutines are created by the caller
pub fn steward<F>(
    timeout: Duration,
    start: F,
) -> impl Fn(Receiver<()>, Duration) -> Receiver<()> + Clone + Send + Sync + 'static
where
    F: Fn(Receiver<()>, Duration) -> Receiver<()> + Send + Sync + 'static,
{
    steward_with(timeout, start, || {})
}

/// [`steward`] that calls `on_restart` each time it restarts its ward
/// (the seed logs "steward: ward unhealthy: restarting").
///
/// ```
/// use std::time::Duration;
/// use weft::{chan, patterns::steward_with};
/// let (restarts_tx, restarts) = chan::<()>(16);
/// let start = steward_with(
///     Duration::from_millis(5),
///     |_done, _pulse| weft::never(), // never beats
///     move || { let _ = restarts_tx.try_send(()); },
/// );
/// let (done_tx, done) = chan::<()>(0);
/// let _beats = start(done, Duration::from_millis(5));
/// restarts.recv().unwrap(); // restarted at least once
/// drop(done_tx);
/// ```
#[track_caller] // the steward's goroutines are created by the caller
pub fn steward_with<F, R>(
    timeout: Duration,
    start: F,
    on_restart: R,
) -> impl Fn(Receiver<()>, Duration) -> Receiver<()> + Clone + Send + Sync + 'static
where
    F: Fn(Receiver<()>, Duration) -> Receiver<()> + Send + Sync + 'static,
    R: Fn() + Send + Sync + 'static,
{
    let start = Arc::new(start);
    let on_restart = Arc::new(on_restart);
    // A closure cannot be `#[track_caller]`: its goroutines are named after
    // `steward_with`'s caller.
    let site = Location::caller();
    move |done: Receiver<()>, pulse: Duration| {
        let (hb, beats) = heartbeat(pulse);
        let start = start.clone();
        let on_restart = on_restart.clone();
        spawn_at(
            move || {
                let start_ward = || {
                    let (ward_done_tx, ward_done) = chan::<()>(0);
                    let ward_beats = start(or(vec![ward_done, done.clone()]), timeout / 2);
                    (ward_done_tx, ward_beats)
                };
                // (stop, beats): dropping `stop` stops the ward (through `or`).
                let mut ward = start_ward();
                loop {
                    let timeout_signal = Timer::new(timeout);
                    let event = loop {
                        let ev = select! {
                            recv(hb.tick()) -> _ => {
                                hb.beat();
                                continue;
                            }
                            recv(ward.1) -> r => if r.is_ok() { Ward::Beat } else { Ward::Gone },
                            recv(timeout_signal.c) -> _ => Ward::Timeout,
                            recv(done) -> _ => Ward::Stop,
                        };
                        match ev {
                            // The ward returned: restart it at the timeout.
                            Ward::Gone => ward.1 = never(),
                            ev => break ev,
                        }
                    };
                    timeout_signal.stop();
                    match event {
                        Ward::Stop => return,
                        Ward::Timeout => {
                            on_restart();
                            ward = start_ward();
                        }
                        Ward::Beat | Ward::Gone => {}
                    }
                }
            },
            site,
        );
        beats
    }
}

/// What the steward's monitor loop saw.
enum Ward {
    Beat,
    Gone,
    Timeout,
    Stop,
}
