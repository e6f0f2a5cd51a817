//! The channel: `chan`, [`Sender`], [`Receiver`] (Go's `hchan`).
//!
//! Owns one channel's state: the ring buffer, the queues of blocked
//! receivers (`recvq`) and senders (`sendq`), the closed flag. All of it is
//! behind the channel's lock, `Chan::lock`; nothing is read outside it.
//!
//! Invariants (Go's `chan.go` ones, restated):
//! - at least one of `sendq` and `recvq` holds no live waiter, except for a
//!   select that waits on both ends of one channel;
//! - buffered: `recvq` has live waiters only when the buffer is empty,
//!   `sendq` only when it is full;
//! - closed: both queues are empty of live waiters and stay so.
//!
//! The lock is a `std::sync::Mutex<()>` guarding an `UnsafeCell`, not a
//! `Mutex<State<T>>`, for one reason: a `select!` must hold the locks of
//! channels of *different* element types at once, in address order, so
//! the guard has to be untyped. Critical sections are a few dozen
//! instructions and never park, never call user code and never allocate
//! more than a queue slot, so a contended lock costs an M a few hundred
//! nanoseconds on a futex — the same trade Go's runtime `lock` makes.
//!
//! Must never: park, run user code (a `Drop` of `T` included, where it can
//! be avoided) or unpark while holding the lock; wake a waiter without
//! claiming it first.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::atomic::{AtomicUsize, Ordering};
// loom's under loom: a timed wait's record is shared with its timer, and
// the record's drop must be seen to follow the timer's last touch.
#[cfg(loom)]
use loom::sync::Arc;
#[cfg(not(loom))]
use std::sync::Arc;
// lockrank: the channel lock is std's mutex with a rank (checked in debug builds).
use weft_runtime::lockrank::{ChanMutex as Mutex, MutexGuard};

use std::time::{Duration, Instant};

use weft_runtime::park::{park, Waiter};
// Under loom, a stand-in the models fire by hand (the runtime's timers
// start the scheduler).
#[cfg(loom)]
use crate::loom_api::timer;
#[cfg(not(loom))]
use weft_runtime::timer;
use weft_runtime::WaitReason;

use crate::error::{
    CloseError, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError,
    TrySendError,
};
use crate::time::TimeChan;
use crate::waiter::{Claimed, Sudog, WaitQueue};

/// The tag a deadline's timer claims a blocked operation with.
pub(crate) const TIMEOUT: usize = weft_runtime::park::MAX_TAG;

/// The shared part of a channel.
pub(crate) struct Chan<T> {
    lock: Mutex<()>,
    /// Protected by `lock`.
    state: UnsafeCell<State<T>>,
    cap: usize,
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Timer hook (issue 20; re-apply when rewriting this file): `Some`
    /// for a time channel (`crate::time`). Then dropping the last sender
    /// (the timer) does not close it (Go never closes a timer's channel),
    /// `len`/`cap` report 0 (Go 1.23's synchronous timer channels), and the
    /// last `Receiver`'s drop calls [`TimeChan::receivers_gone`] so the
    /// timer leaves the heap. Nothing else here looks at it. Boxed, so an
    /// ordinary channel pays one word for it.
    time: Option<Box<TimeChan>>,
}

// `state` is only reached through `Chan::locked`/`Chan::state_mut`; the
// queues' raw pointers name entries on blocked goroutines' stacks, alive
// while linked (waiter.rs).
// SAFETY: those accessors require the lock, so one thread at a time touches
// `state`; the values it holds move between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Chan<T> {}
// SAFETY: a `Chan<T>` owns the buffered `T`s, which are `Send`; its queues'
// raw pointers are followed only under `lock` (through `state_mut`'s
// contract), whatever thread holds the `Chan`.
unsafe impl<T: Send> Send for Chan<T> {}

pub(crate) struct State<T> {
    pub(crate) buf: VecDeque<T>,
    pub(crate) recvq: WaitQueue<T>,
    pub(crate) sendq: WaitQueue<T>,
    pub(crate) closed: bool,
    /// Every `Receiver` is gone: sends fail.
    pub(crate) rx_gone: bool,
}

/// What a send that found the channel ready did.
pub(crate) enum Sent<T> {
    /// The value is delivered; wake this receiver after unlocking.
    Handed(Claimed<T>),
    /// The value is in the buffer.
    Buffered,
    /// Closed (or no receivers): the value comes back.
    Closed(T),
    /// Not ready: the value comes back.
    Full(T),
}

/// What a receive that found the channel ready did.
pub(crate) enum Recvd<T> {
    /// A value; wake this sender (if any) after unlocking.
    Value(T, Option<Claimed<T>>),
    Closed,
    Empty,
}

impl<T> State<T> {
    /// Go's `chansend` up to the point of blocking.
    pub(crate) fn try_send(&mut self, cap: usize, v: T) -> Sent<T> {
        if self.closed || self.rx_gone {
            return Sent::Closed(v);
        }
        // SAFETY: the caller holds the channel lock (it has `&mut State`).
        if let Some(c) = unsafe { self.recvq.dequeue() } {
            // A waiting receiver: hand the value straight to it.
            // SAFETY: claimed, not yet woken.
            unsafe { c.put(v) };
            return Sent::Handed(c);
        }
        if self.buf.len() < cap {
            self.buf.push_back(v);
            return Sent::Buffered;
        }
        Sent::Full(v)
    }

    /// Go's `chanrecv` up to the point of blocking.
    pub(crate) fn try_recv(&mut self) -> Recvd<T> {
        // SAFETY: the caller holds the channel lock (it has `&mut State`).
        if let Some(c) = unsafe { self.sendq.dequeue() } {
            // SAFETY: claimed, not yet woken.
            let Some(sv) = (unsafe { c.take() }) else {
                crate::throw("channel: a queued sender had no value");
            };
            // Buffered and full: take the head, move the sender's value to
            // the tail (Go's order). Unbuffered: take the sender's value.
            let v = match self.buf.pop_front() {
                Some(head) => {
                    self.buf.push_back(sv);
                    head
                }
                None => sv,
            };
            return Recvd::Value(v, Some(c));
        }
        if let Some(v) = self.buf.pop_front() {
            return Recvd::Value(v, None);
        }
        if self.closed {
            Recvd::Closed
        } else {
            Recvd::Empty
        }
    }

    /// Claims every waiter in both queues (close, last receiver gone):
    /// receivers find their slot empty, senders find their value still
    /// there.
    fn claim_all(&mut self) -> Vec<Claimed<T>> {
        let mut woken = Vec::new();
        for q in [&mut self.recvq, &mut self.sendq] {
            // SAFETY: the caller holds the channel lock.
            while let Some(c) = unsafe { q.dequeue() } {
                woken.push(c);
            }
        }
        woken
    }
}

/// Picks a channel's queue of receivers or of senders.
type Which<T> = fn(&mut State<T>) -> &mut WaitQueue<T>;

impl<T> Chan<T> {
    fn new(cap: usize, time: Option<Box<TimeChan>>) -> Chan<T> {
        Chan {
            lock: Mutex::new(()),
            state: UnsafeCell::new(State {
                buf: VecDeque::with_capacity(cap.min(1024)),
                recvq: WaitQueue::default(),
                sendq: WaitQueue::default(),
                closed: false,
                rx_gone: false,
            }),
            cap,
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            time,
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// `cap(ch)` as users see it (timer hook: 0 for a time channel).
    fn user_cap(&self) -> usize {
        if self.time.is_some() {
            0
        } else {
            self.cap
        }
    }

    /// The raw lock, for `select!`, which locks several channels at once.
    pub(crate) fn raw_lock(&self) -> &Mutex<()> {
        &self.lock
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock()
    }

    /// The state, given the lock.
    ///
    /// # Safety
    /// The caller holds this channel's lock for the whole life of the
    /// returned reference, and holds no other reference to the state. So
    /// the reference must die before the lock is released — in particular
    /// before a park, whose commit releases it: a blocked operation's
    /// claimer makes its own `&mut State` while the blocked side sleeps.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_mut(&self) -> &mut State<T> {
        // SAFETY: the caller holds `lock` (the only way to reach `state`)
        // and no other reference to it, per this function's contract.
        unsafe { &mut *self.state.get() }
    }

    /// Runs `f` on the state under the lock.
    pub(crate) fn locked<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        let _g = self.lock();
        // SAFETY: `_g` holds the lock until `f` returns, and the reference
        // does not escape `f`.
        f(unsafe { self.state_mut() })
    }

    fn send(&self, v: T) -> Result<(), SendError<T>> {
        self.send_until(v, None).map_err(|e| match e {
            SendTimeoutError::Closed(v) => SendError(v),
            SendTimeoutError::Timeout(_) => unreachable!("no deadline, no timeout"),
        })
    }

    /// Go's `chansend`, blocking until done or until `deadline`.
    fn send_until(&self, v: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let g = self.lock();
        // SAFETY: `g` holds the lock; the reference is a temporary that
        // dies with this statement, so none is alive when `block` parks.
        let sent = unsafe { self.state_mut() }.try_send(self.cap, v);
        match sent {
            Sent::Handed(c) => {
                drop(g);
                c.wake();
                Ok(())
            }
            Sent::Buffered => Ok(()),
            Sent::Closed(v) => Err(SendTimeoutError::Closed(v)),
            Sent::Full(v) if passed(deadline) => Err(SendTimeoutError::Timeout(v)),
            Sent::Full(v) => {
                let mut slot = Some(v);
                let timed_out = self.block(
                    |st| &mut st.sendq,
                    &raw mut slot,
                    deadline,
                    g,
                    WaitReason::ChanSend,
                );
                // Taken by a receiver (slot empty), or woken by close, the
                // last receiver's drop or the timer (value still there).
                match (slot.take(), timed_out) {
                    (None, false) => Ok(()),
                    (Some(v), false) => Err(SendTimeoutError::Closed(v)),
                    (Some(v), true) => Err(SendTimeoutError::Timeout(v)),
                    (None, true) => crate::throw("send_timeout: value vanished"),
                }
            }
        }
    }

    /// Queues the caller on `which` queue with its value slot, parks
    /// (releasing `g`, this channel's lock, once off its stack), and
    /// returns whether the deadline's timer woke it (then its entry has
    /// been unlinked).
    ///
    /// Without a deadline the wait record lives on this stack; with one it
    /// is shared with the timer's callback, which may still run after we
    /// return (it then finds the record claimed and does nothing).
    ///
    /// While we are parked, the claimer makes its own `&mut State` (under
    /// the lock) and writes `*slot`. So no reference to the state or to the
    /// slot may live across the park: a reference argument is protected
    /// for the whole call, and the claimer's access would then be UB
    /// (aliasing rules; Miri flags it). Hence a raw `slot` and no state
    /// parameter: the state is reached only through temporaries made under
    /// `g` that die before the park.
    fn block(
        &self,
        which: Which<T>,
        slot: *mut Option<T>,
        deadline: Option<Instant>,
        g: MutexGuard<'_, ()>,
        reason: WaitReason,
    ) -> bool {
        let Some(at) = deadline else {
            let w = Waiter::new();
            // SAFETY: `w` is local and only `s` names it: nothing but this
            // queue can claim it (nothing else wakes an untimed wait).
            let s = unsafe { Sudog::exclusive(&w, slot) };
            // SAFETY: `g` holds this channel's lock, and the state
            // reference is a temporary gone before the park; `s` stays on
            // this frame, linked, until a claimer unlinks it, which it must
            // do before waking us (the only way out of `wait`).
            unsafe { which(self.state_mut()).push_back(&s) };
            w.wait(reason, move || drop(g));
            return false;
        };
        let w = Arc::new(Waiter::new());
        let s = Sudog::new(&w, slot, 0);
        // SAFETY: `g` holds this channel's lock, and the state reference is
        // a temporary gone before the park. `s` stays on this frame until
        // we return: a claimer unlinks it before it claims `w` (and wakes
        // us), and on a timeout, where the timer claimed `w` and nobody
        // unlinked `s`, we unlink it ourselves below, under the lock, before
        // returning.
        unsafe { which(self.state_mut()).push_back(&s) };
        // Under the channel lock: `timer::add` only touches the timer heap
        // and may wake an idle M; it never parks or takes a channel lock.
        let claimer = w.clone();
        let timer = timer::add(at, move || {
            if claimer.try_claim(TIMEOUT) {
                // SAFETY: claimed just now, by this one call; `claimer`
                // keeps the record alive whatever its owner does, and the
                // owner, which queued `s` before this timer existed, is in
                // `w.wait` or about to call it, and cannot leave it before
                // `wake` stores `DONE`.
                unsafe { Waiter::wake(&*claimer) };
            }
        });
        if w.wait(reason, move || drop(g)) == TIMEOUT {
            // SAFETY: `locked` holds this channel's lock; `s` is on this
            // frame, and linked, if at all, in this channel's `which` queue.
            self.locked(|st| unsafe { which(st).unlink(&s) });
            return true;
        }
        timer::cancel(&timer);
        false
    }

    fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let g = self.lock();
        // SAFETY: `g` holds the lock until after `st`'s last use, and `st`
        // is the only reference to the state here.
        let st = unsafe { self.state_mut() };
        match st.try_send(self.cap, v) {
            Sent::Handed(c) => {
                drop(g);
                c.wake();
                Ok(())
            }
            Sent::Buffered => Ok(()),
            Sent::Closed(v) => Err(TrySendError::Closed(v)),
            Sent::Full(v) => Err(TrySendError::Full(v)),
        }
    }

    fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|e| match e {
            RecvTimeoutError::Closed => RecvError,
            RecvTimeoutError::Timeout => unreachable!("no deadline, no timeout"),
        })
    }

    /// Go's `chanrecv`, blocking until done or until `deadline`.
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let g = self.lock();
        // SAFETY: `g` holds the lock; the reference is a temporary that
        // dies with this statement, so none is alive when `block` parks.
        let got = unsafe { self.state_mut() }.try_recv();
        match got {
            Recvd::Value(v, c) => {
                drop(g);
                if let Some(c) = c {
                    c.wake();
                }
                Ok(v)
            }
            Recvd::Closed => Err(RecvTimeoutError::Closed),
            Recvd::Empty if passed(deadline) => Err(RecvTimeoutError::Timeout),
            Recvd::Empty => {
                let mut slot = None;
                let timed_out = self.block(
                    |st| &mut st.recvq,
                    &raw mut slot,
                    deadline,
                    g,
                    WaitReason::ChanReceive,
                );
                if timed_out {
                    return Err(RecvTimeoutError::Timeout);
                }
                slot.ok_or(RecvTimeoutError::Closed)
            }
        }
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        let g = self.lock();
        // SAFETY: `g` holds the lock until after `st`'s last use, and `st`
        // is the only reference to the state here.
        let st = unsafe { self.state_mut() };
        match st.try_recv() {
            Recvd::Value(v, c) => {
                drop(g);
                if let Some(c) = c {
                    c.wake();
                }
                Ok(v)
            }
            Recvd::Closed => Err(TryRecvError::Closed),
            Recvd::Empty => Err(TryRecvError::Empty),
        }
    }

    fn close(&self) -> Result<(), CloseError> {
        let woken = {
            let _g = self.lock();
            // SAFETY: `_g` holds the lock until after `st`'s last use (the
            // end of this block), and `st` is the only reference to the
            // state here.
            let st = unsafe { self.state_mut() };
            if st.closed {
                return Err(CloseError);
            }
            st.closed = true;
            st.claim_all()
        };
        for c in woken {
            c.wake();
        }
        Ok(())
    }

    /// The last `Receiver` is gone: fail every blocked and future send.
    /// Returns what was buffered, for the caller to drop last, outside the
    /// lock: a value's `Drop` is user code, which may park or panic.
    fn receivers_gone(&self) -> VecDeque<T> {
        let (woken, buf) = {
            let _g = self.lock();
            // SAFETY: `_g` holds the lock until after `st`'s last use (the
            // end of this block), and `st` is the only reference to the
            // state here.
            let st = unsafe { self.state_mut() };
            st.rx_gone = true;
            (st.claim_all(), mem::take(&mut st.buf))
        };
        for c in woken {
            c.wake();
        }
        buf
    }

    fn len(&self) -> usize {
        if self.time.is_some() {
            return 0; // timer hook: Go 1.23 reports len 0 for a timer channel
        }
        self.locked(|st| st.buf.len())
    }

    fn is_closed(&self) -> bool {
        self.locked(|st| st.closed)
    }
}

/// Whether `deadline` is set and has passed.
fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// Parks forever: an operation on a nil channel (`never()`).
pub(crate) fn block_forever(reason: WaitReason) -> ! {
    loop {
        park(reason, || {});
    }
}

/// Makes a channel (Go's `make(chan T, cap)`): `cap == 0` is unbuffered —
/// a send completes only when a receiver has taken the value — and
/// `cap > 0` buffers up to `cap` values.
///
/// Both halves are `Clone` (many senders, many receivers) and `Send`, and
/// work between goroutines, plain threads, and across the two.
///
/// ```
/// let (tx, rx) = weft::chan::<String>(0);
/// let h = weft::go!(move || tx.send("ping".to_string()).unwrap());
/// assert_eq!(rx.recv().unwrap(), "ping");
/// h.join().unwrap();
/// ```
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    make(cap, None)
}

/// A channel; with `time`, a time channel (see `Chan::time`).
pub(crate) fn make<T>(cap: usize, time: Option<Box<TimeChan>>) -> (Sender<T>, Receiver<T>) {
    let c = Arc::new(Chan::new(cap, time));
    (
        Sender {
            chan: Some(c.clone()),
        },
        Receiver { chan: Some(c) },
    )
}

/// A receiver that is never ready: Go's nil channel. `recv` blocks forever
/// (wait reason "chan receive (nil chan)"), `try_recv` is `Empty`, and a
/// `recv` case on it in `select!` is never chosen — assign `never()` to a
/// variable to turn a case off (Go's `ch = nil`).
///
/// ```
/// let rx = weft::never::<u8>();
/// assert_eq!(rx.try_recv(), Err(weft::TryRecvError::Empty));
/// assert_eq!(rx.cap(), 0);
/// ```
pub fn never<T>() -> Receiver<T> {
    Receiver { chan: None }
}

/// A sender that is never ready: Go's nil channel used for sending. `send`
/// blocks forever (wait reason "chan send (nil chan)"), `try_send` is
/// `Full`, `close` is `Err(CloseError)`, and a `send` case on it in
/// `select!` is never chosen.
///
/// ```
/// use weft::{never_sender, TrySendError};
/// let tx = never_sender::<u8>();
/// assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
/// assert!(tx.close().is_err());
/// ```
pub fn never_sender<T>() -> Sender<T> {
    Sender { chan: None }
}

/// The sending half of a channel. `None` inside is Go's nil channel.
pub struct Sender<T> {
    pub(crate) chan: Option<Arc<Chan<T>>>,
}

/// The receiving half of a channel. `None` inside is Go's nil channel.
pub struct Receiver<T> {
    pub(crate) chan: Option<Arc<Chan<T>>>,
}

impl<T> Sender<T> {
    /// Sends `v`, parking until a receiver takes it (unbuffered) or there
    /// is room in the buffer. Fails, giving `v` back, if the channel is
    /// closed — or closes while waiting — or every `Receiver` is gone.
    ///
    /// ```
    /// let (tx, rx) = weft::chan(1);
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.recv(), Ok(5));
    /// ```
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        match &self.chan {
            Some(c) => c.send(v),
            None => block_forever(WaitReason::ChanSendNilChan),
        }
    }

    /// Sends `v` only if that can be done without waiting (a receiver is
    /// waiting, or the buffer has room): Go's `select` with a `default`.
    ///
    /// ```
    /// use weft::{chan, TrySendError};
    /// let (tx, _rx) = chan(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        match &self.chan {
            Some(c) => c.try_send(v),
            None => Err(TrySendError::Full(v)),
        }
    }

    /// Sends `v`, waiting at most `d` (a goroutine parks; the wait ends on a
    /// runtime timer). Gives `v` back on timeout or close.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::{chan, SendTimeoutError};
    /// let (tx, _rx) = chan(0);
    /// let r = tx.send_timeout(1, Duration::from_millis(10));
    /// assert_eq!(r, Err(SendTimeoutError::Timeout(1)));
    /// ```
    pub fn send_timeout(&self, v: T, d: Duration) -> Result<(), SendTimeoutError<T>> {
        let deadline = Instant::now().checked_add(d);
        match (&self.chan, deadline) {
            (Some(c), dl) => c.send_until(v, dl),
            (None, Some(dl)) => {
                weft_runtime::time::sleep_until(dl);
                Err(SendTimeoutError::Timeout(v))
            }
            (None, None) => block_forever(WaitReason::ChanSendNilChan),
        }
    }

    /// Closes the channel: blocked receivers and senders wake (receivers
    /// get `Err(RecvError)` once the buffer is drained, senders get their
    /// value back), later sends fail. A second close is `Err(CloseError)`
    /// (Go panics).
    ///
    /// ```
    /// let (tx, rx) = weft::chan(2);
    /// tx.send(1).unwrap();
    /// tx.close().unwrap();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), vec![1]);
    /// ```
    pub fn close(&self) -> Result<(), CloseError> {
        match &self.chan {
            Some(c) => c.close(),
            None => Err(CloseError),
        }
    }

    /// How many values are buffered (Go's `len(ch)`).
    pub fn len(&self) -> usize {
        self.chan.as_ref().map_or(0, |c| c.len())
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity (Go's `cap(ch)`); 0 for unbuffered.
    pub fn cap(&self) -> usize {
        self.chan.as_ref().map_or(0, |c| c.user_cap())
    }

    /// Whether the channel has been closed.
    pub fn is_closed(&self) -> bool {
        self.chan.as_ref().is_some_and(|c| c.is_closed())
    }
}

impl<T> Sender<T> {
    /// Whether some `Receiver` is still alive (the time channels stop
    /// re-arming when none is).
    pub(crate) fn has_receivers(&self) -> bool {
        self.chan
            .as_ref()
            .is_some_and(|c| c.receivers.load(Ordering::Acquire) > 0)
    }

    /// Empties the buffer (a stopped or reset timer must not deliver a
    /// stale value: Go 1.23's rule); whether a value was there. Values are
    /// dropped after unlocking.
    pub(crate) fn drain(&self) -> bool {
        let Some(c) = &self.chan else { return false };
        let old = c.locked(|st| mem::take(&mut st.buf));
        !old.is_empty()
    }

    /// Timer hook: the time-channel part of this channel, if it is one.
    pub(crate) fn time_chan(&self) -> Option<&TimeChan> {
        self.chan.as_ref().and_then(|c| c.time.as_deref())
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one is there. `Err(RecvError)` once
    /// the channel is closed and its buffer drained (Go's `ok == false`).
    ///
    /// ```
    /// let (tx, rx) = weft::chan(0);
    /// weft::go!(move || tx.send(3).unwrap());
    /// assert_eq!(rx.recv(), Ok(3));
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        match &self.chan {
            Some(c) => c.recv(),
            None => block_forever(WaitReason::ChanReceiveNilChan),
        }
    }

    /// Receives a value only if one is there without waiting.
    ///
    /// ```
    /// use weft::{chan, TryRecvError};
    /// let (tx, rx) = chan::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match &self.chan {
            Some(c) => c.try_recv(),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Receives a value, waiting at most `d`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::{chan, RecvTimeoutError};
    /// let (_tx, rx) = chan::<u8>(0);
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(10)), Err(RecvTimeoutError::Timeout));
    /// ```
    pub fn recv_timeout(&self, d: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = Instant::now().checked_add(d);
        match (&self.chan, deadline) {
            (Some(c), dl) => c.recv_until(dl),
            (None, Some(dl)) => {
                weft_runtime::time::sleep_until(dl);
                Err(RecvTimeoutError::Timeout)
            }
            (None, None) => block_forever(WaitReason::ChanReceiveNilChan),
        }
    }

    /// Closes the channel, as [`Sender::close`] does (Go lets only the
    /// sending side close; here either half may).
    pub fn close(&self) -> Result<(), CloseError> {
        match &self.chan {
            Some(c) => c.close(),
            None => Err(CloseError),
        }
    }

    /// A blocking iterator that ends when the channel is closed and
    /// drained (Go's `for v := range ch`).
    ///
    /// ```
    /// let (tx, rx) = weft::chan(3);
    /// for i in 0..3 { tx.send(i).unwrap(); }
    /// drop(tx);
    /// assert_eq!(rx.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// How many values are buffered (Go's `len(ch)`).
    pub fn len(&self) -> usize {
        self.chan.as_ref().map_or(0, |c| c.len())
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity (Go's `cap(ch)`); 0 for unbuffered.
    pub fn cap(&self) -> usize {
        self.chan.as_ref().map_or(0, |c| c.user_cap())
    }

    /// Whether the channel has been closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.chan.as_ref().is_some_and(|c| c.is_closed())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        if let Some(c) = &self.chan {
            c.senders.fetch_add(1, Ordering::Relaxed);
        }
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        if let Some(c) = &self.chan {
            c.receivers.fetch_add(1, Ordering::Relaxed);
        }
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(c) = &self.chan {
            // AcqRel: the last dropper sees every other sender's sends.
            // With no receiver left (none can be made from a sender) nobody
            // can see the close: the channel is going away, skip its lock.
            if c.senders.fetch_sub(1, Ordering::AcqRel) == 1
                && c.time.is_none()
                && c.receivers.load(Ordering::Acquire) > 0
            {
                let _ = c.close();
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(c) = &self.chan {
            if c.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
                // With no sender left, no send is blocked or can come: the
                // buffer goes with the channel (this was its last handle).
                let buf = (c.senders.load(Ordering::Acquire) > 0).then(|| c.receivers_gone());
                if let Some(t) = &c.time {
                    t.receivers_gone(); // timer hook: the timer leaves the heap
                }
                // Last: a value's `Drop` may panic (the channel is already
                // consistent, and every other value is still dropped once)
                // or park (no lock is held).
                drop(buf);
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.chan {
            Some(c) => write!(f, "Sender {{ cap: {}, .. }}", c.cap()),
            None => f.write_str("Sender { nil }"),
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.chan {
            Some(c) => write!(f, "Receiver {{ cap: {}, .. }}", c.cap()),
            None => f.write_str("Receiver { nil }"),
        }
    }
}

/// The blocking iterator of [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// The owning blocking iterator of `Receiver`'s `into_iter`.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
