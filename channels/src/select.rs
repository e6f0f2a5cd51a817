//! `select!`: wait on several channel operations, complete exactly one
//! (Go's `selectgo`). See `docs/channels.md` for the picture.
//!
//! Owns: the cases a `select!` expands to ([`RecvCase`], [`SendCase`]),
//! the [`Case`] interface between them and the algorithm in
//! [`select_run`]:
//!
//! 1. lock every distinct channel of the enabled cases, in address order
//!    (so two selects, or a select and a plain operation, can never lock
//!    in opposite orders);
//! 2. poll the enabled cases in a random order; the first that can
//!    complete does, everything unlocks, done (this makes the choice
//!    among ready cases uniform, Go's rule);
//! 3. none ready: with `default`, unlock and run it; otherwise queue one
//!    entry per case, all sharing one [`Waiter`], and park with
//!    `WaitReason::Select`, the commit unlocking everything;
//! 4. a counterpart on any of the channels claims the waiter with one CAS
//!    (the first wins; later ones see the CAS fail and drop their stale
//!    entry), moves the value and unparks;
//! 5. woken: relock, remove the losing cases' entries, unlock, read the
//!    winner's result.
//!
//! A select never pairs with itself: in step 2 it is in no queue yet, and
//! its own queued entries all share one claim word, which only a
//! counterpart from outside can win. A nil channel's case (`never()`,
//! `never_sender()`) is disabled: not locked, polled or queued.
//!
//! Must never: park holding a lock other than through the commit, lock
//! channels out of address order, complete two cases, or use a reference
//! to a case across the park, or pass one as an argument to a call that
//! parks (claimers write its slot and read its entry meanwhile, through
//! raw pointers: `cases`' `&mut`s lie unused in the slice while we are
//! parked, and each case is reached afresh through them after the wake).

// lockrank: the channel lock is std's mutex with a rank (checked in debug builds).
use smallvec::SmallVec;
use weft_runtime::lockrank::{ChanMutex as Mutex, MutexGuard};

use weft_runtime::park::Waiter;
use weft_runtime::WaitReason;

use crate::chan::{block_forever, Chan, Receiver, Recvd, Sender, Sent};
use crate::error::{RecvError, SendError};
use crate::waiter::{Claimed, Sudog};

/// The shared wait record of one blocked select, as the cases see it. It
/// lives on the selecting goroutine's stack.
#[doc(hidden)]
pub struct SelectWaiter(Waiter);

/// One case of a `select!`: the interface `select_run` drives. Not a
/// public API; the macro uses it.
#[doc(hidden)]
pub trait Case<'a> {
    /// The lock of this case's channel; `None` disables the case (nil).
    fn chan_lock(&self) -> Option<&'a Mutex<()>>;

    /// Completes the operation if it can without waiting; returns whether
    /// it did.
    ///
    /// # Safety
    /// The caller holds the lock returned by `chan_lock`.
    unsafe fn poll(&mut self) -> bool;

    /// Queues this case on its channel under `case`. The case must not move
    /// until [`Case::dequeue`] (or a win) takes it out again.
    ///
    /// # Safety
    /// The caller holds the lock returned by `chan_lock`, and `waiter` lives
    /// until the select returns.
    unsafe fn enqueue(&mut self, waiter: &SelectWaiter, case: usize);

    /// Removes this case's entry from its channel, if still there (a
    /// losing case).
    ///
    /// # Safety
    /// The caller holds the lock returned by `chan_lock`.
    unsafe fn dequeue(&mut self);

    /// After `poll` succeeded and the locks are released: wakes the
    /// counterpart the poll claimed, if any.
    fn after_unlock(&mut self);

    /// This case won while queued: reads its result from its slot.
    fn won(&mut self);
}

/// Anything a `recv` case accepts: a `Receiver<T>` or a reference to one.
#[doc(hidden)]
pub trait AsReceiver<T> {
    fn as_receiver(&self) -> &Receiver<T>;
}

impl<T> AsReceiver<T> for Receiver<T> {
    fn as_receiver(&self) -> &Receiver<T> {
        self
    }
}

impl<T, R: AsReceiver<T> + ?Sized> AsReceiver<T> for &R {
    fn as_receiver(&self) -> &Receiver<T> {
        (**self).as_receiver()
    }
}

impl<T, R: AsReceiver<T> + ?Sized> AsReceiver<T> for &mut R {
    fn as_receiver(&self) -> &Receiver<T> {
        (**self).as_receiver()
    }
}

/// Anything a `send` case accepts: a `Sender<T>` or a reference to one.
#[doc(hidden)]
pub trait AsSender<T> {
    fn as_sender(&self) -> &Sender<T>;
}

impl<T> AsSender<T> for Sender<T> {
    fn as_sender(&self) -> &Sender<T> {
        self
    }
}

impl<T, S: AsSender<T> + ?Sized> AsSender<T> for &S {
    fn as_sender(&self) -> &Sender<T> {
        (**self).as_sender()
    }
}

impl<T, S: AsSender<T> + ?Sized> AsSender<T> for &mut S {
    fn as_sender(&self) -> &Sender<T> {
        (**self).as_sender()
    }
}

/// A `recv(rx) -> msg` case.
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    chan: Option<&'a Chan<T>>,
    /// Filled by a sender that claims this case while it is queued.
    slot: Option<T>,
    sudog: Option<Sudog<T>>,
    wake: Option<Claimed<T>>,
    result: Option<Result<T, RecvError>>,
}

impl<'a, T> RecvCase<'a, T> {
    pub fn new<R: AsReceiver<T> + ?Sized>(rx: &'a R) -> Self {
        RecvCase {
            chan: rx.as_receiver().chan.as_deref(),
            slot: None,
            sudog: None,
            wake: None,
            result: None,
        }
    }

    /// `Some` if this case fired.
    pub fn into_result(self) -> Option<Result<T, RecvError>> {
        self.result
    }
}

impl<'a, T> Case<'a> for RecvCase<'a, T> {
    fn chan_lock(&self) -> Option<&'a Mutex<()>> {
        self.chan.map(|c| c.raw_lock())
    }

    unsafe fn poll(&mut self) -> bool {
        let Some(c) = self.chan else { return false };
        // SAFETY: the caller holds this channel's lock (our contract), and
        // the reference dies before we return.
        let st = unsafe { c.state_mut() };
        match st.try_recv() {
            Recvd::Value(v, claimed) => {
                self.result = Some(Ok(v));
                self.wake = claimed;
                true
            }
            Recvd::Closed => {
                self.result = Some(Err(RecvError));
                true
            }
            Recvd::Empty => false,
        }
    }

    unsafe fn enqueue(&mut self, waiter: &SelectWaiter, case: usize) {
        let Some(c) = self.chan else { return };
        let slot: *mut Option<T> = &mut self.slot;
        let s = self.sudog.insert(Sudog::new(&waiter.0, slot, case));
        // SAFETY: the caller holds this channel's lock, and the state
        // reference is a temporary; `s` was made just now, so it is in no
        // queue, and the case (and so `s`) stays put until it is dequeued
        // or wins (our contract).
        unsafe { c.state_mut().recvq.push_back(s) };
    }

    unsafe fn dequeue(&mut self) {
        if let (Some(c), Some(s)) = (self.chan, &self.sudog) {
            // SAFETY: the caller holds this channel's lock, and the state
            // reference is a temporary; `s` is a reference, so alive, and
            // `enqueue` linked it, if it is linked at all, in this
            // channel's `recvq`.
            unsafe { c.state_mut().recvq.unlink(s) };
        }
    }

    fn after_unlock(&mut self) {
        if let Some(c) = self.wake.take() {
            c.wake();
        }
    }

    fn won(&mut self) {
        self.result = Some(self.slot.take().ok_or(RecvError));
    }
}

/// A `send(tx, value) -> res` case.
#[doc(hidden)]
pub struct SendCase<'a, T> {
    chan: Option<&'a Chan<T>>,
    /// The value; a receiver that claims this case while it is queued
    /// takes it from here.
    value: Option<T>,
    sudog: Option<Sudog<T>>,
    wake: Option<Claimed<T>>,
    result: Option<Result<(), SendError<T>>>,
}

impl<'a, T> SendCase<'a, T> {
    pub fn new<S: AsSender<T> + ?Sized>(tx: &'a S, value: T) -> Self {
        SendCase {
            chan: tx.as_sender().chan.as_deref(),
            value: Some(value),
            sudog: None,
            wake: None,
            result: None,
        }
    }

    /// `Some` if this case fired.
    pub fn into_result(self) -> Option<Result<(), SendError<T>>> {
        self.result
    }
}

impl<'a, T> Case<'a> for SendCase<'a, T> {
    fn chan_lock(&self) -> Option<&'a Mutex<()>> {
        self.chan.map(|c| c.raw_lock())
    }

    unsafe fn poll(&mut self) -> bool {
        let (Some(c), Some(v)) = (self.chan, self.value.take()) else {
            return false;
        };
        // SAFETY: the caller holds this channel's lock (our contract), and
        // the reference dies before we return.
        let st = unsafe { c.state_mut() };
        match st.try_send(c.cap(), v) {
            Sent::Handed(claimed) => {
                self.wake = Some(claimed);
                self.result = Some(Ok(()));
                true
            }
            Sent::Buffered => {
                self.result = Some(Ok(()));
                true
            }
            Sent::Closed(v) => {
                self.result = Some(Err(SendError(v)));
                true
            }
            Sent::Full(v) => {
                self.value = Some(v);
                false
            }
        }
    }

    unsafe fn enqueue(&mut self, waiter: &SelectWaiter, case: usize) {
        let Some(c) = self.chan else { return };
        let slot: *mut Option<T> = &mut self.value;
        let s = self.sudog.insert(Sudog::new(&waiter.0, slot, case));
        // SAFETY: the caller holds this channel's lock, and the state
        // reference is a temporary; `s` was made just now, so it is in no
        // queue, and the case (and so `s`) stays put until it is dequeued
        // or wins (our contract).
        unsafe { c.state_mut().sendq.push_back(s) };
    }

    unsafe fn dequeue(&mut self) {
        if let (Some(c), Some(s)) = (self.chan, &self.sudog) {
            // SAFETY: the caller holds this channel's lock, and the state
            // reference is a temporary; `s` is a reference, so alive, and
            // `enqueue` linked it, if it is linked at all, in this
            // channel's `sendq`.
            unsafe { c.state_mut().sendq.unlink(s) };
        }
    }

    fn after_unlock(&mut self) {
        if let Some(c) = self.wake.take() {
            c.wake();
        }
    }

    fn won(&mut self) {
        // Taken by a receiver (empty), or handed back by close (still here).
        self.result = Some(match self.value.take() {
            None => Ok(()),
            Some(v) => Err(SendError(v)),
        });
    }
}

/// The cases a `select!` keeps its per-call lists for on the stack; a
/// `select!` with more (or a `DynSelect` with many) spills to the heap.
const INLINE_CASES: usize = 8;

/// A per-call list of a select: on the stack up to [`INLINE_CASES`].
type Short<T> = SmallVec<[T; INLINE_CASES]>;

fn lock_all<'a>(locks: &[&'a Mutex<()>]) -> Short<MutexGuard<'a, ()>> {
    locks.iter().map(|l| l.lock()).collect()
}

/// Runs a select over `cases` (see the module comment). On return exactly
/// one case holds a result — or none, when `has_default` and nothing was
/// ready. Blocks forever when every case is disabled and there is no
/// default (Go's select over nil channels).
#[doc(hidden)]
pub fn select_run<'a>(cases: &mut [&mut dyn Case<'a>], has_default: bool) {
    // Step 1: the distinct locks, in address order.
    // (Lists on the stack: a select allocates nothing; the three `Vec`s
    // it built here were a quarter of a select over 4 channels.)
    let mut locks: Short<&'a Mutex<()>> = cases.iter().filter_map(|c| c.chan_lock()).collect();
    locks.sort_by_key(|l| *l as *const Mutex<()> as usize);
    locks.dedup_by_key(|l| *l as *const Mutex<()> as usize);
    let mut order: Short<usize> = (0..cases.len())
        .filter(|&i| cases[i].chan_lock().is_some())
        .collect();
    // Fisher–Yates: a uniformly random poll order.
    for i in (1..order.len()).rev() {
        order.swap(i, crate::rand::below(i + 1));
    }
    let guards = lock_all(&locks);

    // Step 2: poll.
    for &i in &order {
        // SAFETY: `guards` holds every enabled case's channel lock.
        if unsafe { cases[i].poll() } {
            drop(guards);
            cases[i].after_unlock();
            return;
        }
    }

    // Step 3: default, or queue and park.
    if has_default {
        return;
    }
    if order.is_empty() {
        drop(guards);
        block_forever(WaitReason::Select);
    }
    let waiter = SelectWaiter(Waiter::new());
    for &i in &order {
        // SAFETY: `guards` holds every enabled case's channel lock; the
        // cases and `waiter` stay on this frame until we return.
        unsafe { cases[i].enqueue(&waiter, i) };
    }
    // Step 4 happens on the counterpart's side.
    let won = waiter.0.wait(WaitReason::Select, move || drop(guards));

    // Step 5: take the losers' entries out of their queues (the winner's
    // was taken out by its claimer), so nobody reaches them once we return.
    if order.len() > 1 {
        let guards = lock_all(&locks);
        for &i in &order {
            if i != won {
                // SAFETY: `guards` holds every enabled case's channel lock.
                unsafe { cases[i].dequeue() };
            }
        }
        drop(guards);
    }
    match cases.get_mut(won) {
        Some(c) => c.won(),
        None => crate::throw("select: woken with no winning case"),
    }
}

/// `select! {}`: blocks forever (Go's `select {}`).
#[doc(hidden)]
pub fn select_no_cases() -> ! {
    block_forever(WaitReason::SelectNoCases)
}

/// A select without `default` returned with no case fired: impossible.
#[doc(hidden)]
pub fn no_case_fired() -> ! {
    crate::throw("select: returned without firing a case")
}

/// Waits on several channel operations and runs the body of the one that
/// completes (Go's `select`).
///
/// ```text
/// select! {
///     recv(rx) -> msg => body,          // msg: Result<T, RecvError>
///     send(tx, value) -> res => body,   // res: Result<(), SendError<T>>
///     default => body,                  // optional: do not wait
/// }
/// ```
///
/// When several cases are ready one is chosen uniformly at random. A
/// case on [`never()`](crate::never) or [`never_sender()`](crate::never_sender)
/// is never chosen (Go's nil channel). `select! {}` blocks forever. The
/// channel and value expressions are evaluated once, in source order, on
/// entry; a value whose case is not chosen is dropped. Bodies may be
/// blocks or expressions and may `break`, `continue` or `return`; the
/// patterns must be irrefutable.
///
/// ```
/// use weft::{chan, never, select};
/// let (tx, rx) = chan::<i32>(1);
/// let off = never::<i32>();
/// tx.send(1).unwrap();
/// let got = select! {
///     recv(off) -> _ => unreachable!(),
///     recv(rx) -> v => v.unwrap(),
/// };
/// assert_eq!(got, 1);
/// let r = select! {
///     recv(rx) -> v => v.ok(),
///     default => None,
/// };
/// assert_eq!(r, None);
/// ```
#[macro_export]
macro_rules! select {
    () => {
        $crate::__private::select_no_cases()
    };

    // ---- parse arms into [(kind args pat body)...] [default body] ----
    (@parse [$($c:tt)*] [$($d:tt)*]) => {
        $crate::select!(@build [$($c)*] [$($d)*] [])
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        recv($rx:expr) -> $p:pat => $body:block , $($rest:tt)*) => {
        $crate::select!(@parse [$($c)* (recv ($rx) ($p) { $body })] [$($d)*] $($rest)*)
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($c)* (recv ($rx) ($p) { $body })] [$($d)*] $($rest)*)
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        recv($rx:expr) -> $p:pat => $body:expr , $($rest:tt)*) => {
        $crate::select!(@parse [$($c)* (recv ($rx) ($p) { $body })] [$($d)*] $($rest)*)
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::select!(@parse [$($c)* (recv ($rx) ($p) { $body })] [$($d)*])
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:block , $($rest:tt)*) => {
        $crate::select!(@parse [$($c)* (send ($tx, $v) ($p) { $body })] [$($d)*] $($rest)*)
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($c)* (send ($tx, $v) ($p) { $body })] [$($d)*] $($rest)*)
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:expr , $($rest:tt)*) => {
        $crate::select!(@parse [$($c)* (send ($tx, $v) ($p) { $body })] [$($d)*] $($rest)*)
    };
    (@parse [$($c:tt)*] [$($d:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:expr) => {
        $crate::select!(@parse [$($c)* (send ($tx, $v) ($p) { $body })] [$($d)*])
    };
    (@parse [$($c:tt)*] []
        default => $body:block , $($rest:tt)*) => {
        $crate::select!(@parse [$($c)*] [{ $body }] $($rest)*)
    };
    (@parse [$($c:tt)*] []
        default => $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($c)*] [{ $body }] $($rest)*)
    };
    (@parse [$($c:tt)*] []
        default => $body:expr , $($rest:tt)*) => {
        $crate::select!(@parse [$($c)*] [{ $body }] $($rest)*)
    };
    (@parse [$($c:tt)*] []
        default => $body:expr) => {
        $crate::select!(@parse [$($c)*] [{ $body }])
    };
    (@parse [$($c:tt)*] [$($d:tt)+] default $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` case")
    };
    (@parse [$($c:tt)*] [$($d:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(::core::concat!(
            "select!: expected `recv(rx) -> pat => body`, `send(tx, value) -> pat => body` ",
            "or `default => body`, found: `",
            ::core::stringify!($($rest)+),
            "`"
        ))
    };

    // ---- build: one nested `match` per case, so temporaries live on ----
    (@build [(recv ($rx:expr) ($p:pat) $body:tt) $($rest:tt)*] $d:tt [$($done:tt)*]) => {
        match $rx {
            ref __weft_rx => {
                let mut __weft_case = $crate::__private::RecvCase::new(__weft_rx);
                $crate::select!(@build [$($rest)*] $d
                    [$($done)* (__weft_case __weft_res ($p) $body)])
            }
        }
    };
    (@build [(send ($tx:expr, $v:expr) ($p:pat) $body:tt) $($rest:tt)*] $d:tt [$($done:tt)*]) => {
        match $tx {
            ref __weft_tx => {
                let mut __weft_case = $crate::__private::SendCase::new(__weft_tx, $v);
                $crate::select!(@build [$($rest)*] $d
                    [$($done)* (__weft_case __weft_res ($p) $body)])
            }
        }
    };
    (@build [] [] [$(($case:ident $res:ident ($p:pat) $body:tt))*]) => {{
        $crate::__private::select_run(
            &mut [$(&mut $case as &mut dyn $crate::__private::Case<'_>),*],
            false,
        );
        $( let $res = $case.into_result(); )*
        $(
            if let ::core::option::Option::Some(__weft_v) = $res {
                let $p = __weft_v;
                $body
            } else
        )* {
            $crate::__private::no_case_fired()
        }
    }};
    (@build [] [$default:tt] [$(($case:ident $res:ident ($p:pat) $body:tt))*]) => {{
        $crate::__private::select_run(
            &mut [$(&mut $case as &mut dyn $crate::__private::Case<'_>),*],
            true,
        );
        $( let $res = $case.into_result(); )*
        $(
            if let ::core::option::Option::Some(__weft_v) = $res {
                let $p = __weft_v;
                $body
            } else
        )* $default
    }};

    // ---- entry ----
    ($($arms:tt)+) => {
        $crate::select!(@parse [] [] $($arms)+)
    };
}
