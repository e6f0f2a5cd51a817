//! [`Select`]: a select over a number of cases known only at run time
//! (Go's `reflect.Select`), in crossbeam-channel's shape.
//!
//! Owns: the list of registered cases and, per call, the `RecvCase` /
//! `SendCase` values it builds from them and hands to `select_run` — the
//! same algorithm `select!` runs (lock order, uniform choice among ready
//! cases, one shared waiter, one claim). Nothing here touches a channel's
//! internals: a dynamic select is `select!` with its case list built at
//! run time.
//!
//! The one difference from crossbeam's `Select`, and why: crossbeam
//! *selects* an operation and lets the caller *complete* it afterwards
//! (`op.send(&tx, v)`); weft's select, like Go's, completes the operation
//! while selecting (a rendezvous send has happened when `select` returns).
//! So a send case carries its value from the start (`sel.send(&tx, v)`),
//! and `op.send(&tx)` / `op.recv(&rx)` hand over the result of an operation
//! that is already done.
//!
//! Must never: hold a case's result past the next select (each call starts
//! from fresh cases), leave its timeout timer pending after it returns, or
//! complete more than one case.

use std::any::Any;
use std::fmt;
use std::time::{Duration, Instant};

use crate::chan::{Receiver, Sender};
use crate::error::{RecvError, SendError};
use crate::select::{select_no_cases, select_run, Case, RecvCase, SendCase};
use crate::time::Timer;

/// A select over cases added at run time (Go's `reflect.Select`), in
/// crossbeam-channel's shape. It runs `select!`'s algorithm: when several
/// cases are ready one is chosen uniformly at random; otherwise it parks
/// until one completes.
///
/// ```
/// use weft::{chan, Select};
/// let (tx1, rx1) = chan::<i32>(1);
/// let (_tx2, rx2) = chan::<i32>(1);
/// tx1.send(7).unwrap();
///
/// let mut sel = Select::new();
/// let i1 = sel.recv(&rx1);
/// let i2 = sel.recv(&rx2);
/// let op = sel.select();
/// match op.index() {
///     i if i == i1 => assert_eq!(op.recv(&rx1), Ok(7)),
///     i if i == i2 => unreachable!(),
///     _ => unreachable!(),
/// }
/// ```
///
/// # Differences from crossbeam-channel's `Select`
///
/// weft's select completes the chosen operation *during* the select, as
/// Go's does (crossbeam only picks one, and the caller completes it
/// afterwards). Hence:
///
/// - a send case takes its value when it is added: [`Select::send`]`(&tx,
///   value)`, and [`SelectedOperation::send`]`(&tx)` returns the send's
///   result (`Err(SendError(value))` gives the value back when the channel
///   was closed);
/// - a value is offered to **one** select call. After that call returns,
///   a send case added with [`Select::send`] is spent: if it was not
///   chosen its value has been dropped (as `select!` drops the values of
///   the cases it does not choose), and later calls skip it as if its
///   channel were nil. For a case offered again and again (Go's `case ch
///   <- f():` in a `for`/`select` loop), use [`Select::send_with`], which
///   makes a fresh value for every call;
/// - dropping a [`SelectedOperation`] without calling `recv`/`send` is not
///   an error (crossbeam panics): the operation has already happened, and a
///   received value is dropped;
/// - there is no `ready()` (it would have to complete an operation to know
///   it can);
/// - a select with no enabled case blocks for ever, as Go's does (crossbeam
///   panics on an empty `Select`); the deadlock detector reports it.
///
/// Element types must be `'static` (the results are kept type-erased until
/// `op.recv`/`op.send` asks for them by type).
pub struct Select<'a> {
    slots: Vec<Option<Box<dyn Slot<'a> + 'a>>>,
}

/// The operation a [`Select`] completed: its [`index`](Self::index), and
/// its result through [`recv`](Self::recv) or [`send`](Self::send).
///
/// ```
/// use weft::{chan, Select};
/// let (tx, rx) = chan::<u8>(1);
/// let mut sel = Select::new();
/// let s = sel.send(&tx, 1);
/// let op = sel.select();
/// assert_eq!(op.index(), s);
/// assert_eq!(op.send(&tx), Ok(()));
/// assert_eq!(rx.recv(), Ok(1));
/// ```
#[must_use = "the operation has already happened: call `recv` or `send` to get its result"]
pub struct SelectedOperation<'s, 'a> {
    sel: &'s mut Select<'a>,
    index: usize,
}

/// [`Select::try_select`] found no case ready.
///
/// ```
/// let mut sel = weft::Select::new();
/// assert_eq!(sel.try_select().unwrap_err().to_string(), "all operations in select would block");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrySelectError;

/// [`Select::select_timeout`] timed out with no case ready.
///
/// ```
/// let mut sel = weft::Select::new();
/// let e = sel.select_timeout(std::time::Duration::from_millis(1)).unwrap_err();
/// assert_eq!(e.to_string(), "timed out waiting on select");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectTimeoutError;

impl fmt::Display for TrySelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("all operations in select would block")
    }
}

impl fmt::Display for SelectTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting on select")
    }
}

impl std::error::Error for TrySelectError {}
impl std::error::Error for SelectTimeoutError {}

/// One registered case. For each select call it arms a fresh `Case`
/// (borrowing the slot), which on `finish` leaves its result in the slot.
trait Slot<'a> {
    /// A fresh case for the next call, or `None` when the case is spent
    /// (a one-shot send that has been offered already).
    fn arm<'x>(&'x mut self) -> Option<Box<dyn Armed<'x> + 'x>>
    where
        'a: 'x;
    /// The address of the `Receiver`/`Sender` it was registered with.
    fn handle(&self) -> *const ();
    /// `Option<Result<..>>`: the result of the last call, if it chose this
    /// case.
    fn result(&mut self) -> &mut dyn Any;
    fn kind(&self) -> &'static str;
}

/// A case armed for one call.
trait Armed<'x> {
    fn case(&mut self) -> &mut dyn Case<'x>;
    /// After the call: stores the result in the slot if this case fired,
    /// and says whether it did.
    fn finish(self: Box<Self>) -> bool;
}

struct RecvSlot<'a, T> {
    rx: &'a Receiver<T>,
    result: Option<Result<T, RecvError>>,
}

struct ArmedRecv<'x, T> {
    case: RecvCase<'x, T>,
    out: &'x mut Option<Result<T, RecvError>>,
}

impl<'a, T: 'static> Slot<'a> for RecvSlot<'a, T> {
    fn arm<'x>(&'x mut self) -> Option<Box<dyn Armed<'x> + 'x>>
    where
        'a: 'x,
    {
        self.result = None;
        Some(Box::new(ArmedRecv {
            case: RecvCase::new(self.rx),
            out: &mut self.result,
        }))
    }

    fn handle(&self) -> *const () {
        self.rx as *const Receiver<T> as *const ()
    }

    fn result(&mut self) -> &mut dyn Any {
        &mut self.result
    }

    fn kind(&self) -> &'static str {
        "receive"
    }
}

impl<'x, T> Armed<'x> for ArmedRecv<'x, T> {
    fn case(&mut self) -> &mut dyn Case<'x> {
        &mut self.case
    }

    fn finish(self: Box<Self>) -> bool {
        let me = *self;
        *me.out = me.case.into_result();
        me.out.is_some()
    }
}

/// Where a send case's values come from.
enum Value<'a, T> {
    /// Offered to one call, then spent.
    Once(Option<T>),
    /// Made afresh for every call.
    Each(Box<dyn FnMut() -> T + 'a>),
}

struct SendSlot<'a, T> {
    tx: &'a Sender<T>,
    value: Value<'a, T>,
    result: Option<Result<(), SendError<T>>>,
}

struct ArmedSend<'x, T> {
    case: SendCase<'x, T>,
    out: &'x mut Option<Result<(), SendError<T>>>,
}

impl<'a, T: 'static> Slot<'a> for SendSlot<'a, T> {
    fn arm<'x>(&'x mut self) -> Option<Box<dyn Armed<'x> + 'x>>
    where
        'a: 'x,
    {
        self.result = None;
        let v = match &mut self.value {
            Value::Once(v) => v.take()?,
            Value::Each(f) => f(),
        };
        Some(Box::new(ArmedSend {
            case: SendCase::new(self.tx, v),
            out: &mut self.result,
        }))
    }

    fn handle(&self) -> *const () {
        self.tx as *const Sender<T> as *const ()
    }

    fn result(&mut self) -> &mut dyn Any {
        &mut self.result
    }

    fn kind(&self) -> &'static str {
        "send"
    }
}

impl<'x, T> Armed<'x> for ArmedSend<'x, T> {
    fn case(&mut self) -> &mut dyn Case<'x> {
        &mut self.case
    }

    fn finish(self: Box<Self>) -> bool {
        let me = *self;
        *me.out = me.case.into_result();
        me.out.is_some()
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl<'a> Select<'a> {
    /// An empty select.
    ///
    /// ```
    /// let sel = weft::Select::new();
    /// # drop(sel);
    /// ```
    pub fn new() -> Select<'a> {
        Select { slots: Vec::new() }
    }

    /// Adds a receive case on `rx`; returns its index (0, 1, 2, … in the
    /// order cases are added). A case on [`never()`](crate::never) is
    /// never chosen.
    ///
    /// ```
    /// use weft::{chan, Select};
    /// let (tx, rx) = chan::<&str>(1);
    /// tx.send("hi").unwrap();
    /// let mut sel = Select::new();
    /// let i = sel.recv(&rx);
    /// let op = sel.select();
    /// assert_eq!(op.index(), i);
    /// assert_eq!(op.recv(&rx), Ok("hi"));
    /// ```
    pub fn recv<T: 'static>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.push(Box::new(RecvSlot { rx, result: None }))
    }

    /// Adds a send case of `value` on `tx`; returns its index. The value
    /// is offered to the next select call only (see the type's
    /// documentation); [`send_with`](Self::send_with) offers a fresh value
    /// to every call.
    ///
    /// ```
    /// use weft::{chan, Select};
    /// let (tx, rx) = chan::<u32>(1);
    /// let mut sel = Select::new();
    /// let i = sel.send(&tx, 5);
    /// let op = sel.select();
    /// assert_eq!(op.index(), i);
    /// op.send(&tx).unwrap();
    /// assert_eq!(rx.recv(), Ok(5));
    /// ```
    pub fn send<T: 'static>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.push(Box::new(SendSlot {
            tx,
            value: Value::Once(Some(value)),
            result: None,
        }))
    }

    /// Adds a send case on `tx` whose value `make` produces afresh for
    /// every select call (Go re-evaluates `case ch <- f():` on every pass
    /// of a `for`/`select` loop). A value whose case is not chosen is
    /// dropped.
    ///
    /// ```
    /// use weft::{chan, Select};
    /// let (tx, rx) = chan::<u32>(3);
    /// let mut n = 0;
    /// let mut sel = Select::new();
    /// let i = sel.send_with(&tx, move || { n += 1; n });
    /// for _ in 0..3 {
    ///     let op = sel.select();
    ///     assert_eq!(op.index(), i);
    ///     op.send(&tx).unwrap();
    /// }
    /// assert_eq!(rx.iter().take(3).collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    pub fn send_with<T: 'static>(
        &mut self,
        tx: &'a Sender<T>,
        make: impl FnMut() -> T + 'a,
    ) -> usize {
        self.push(Box::new(SendSlot {
            tx,
            value: Value::Each(Box::new(make)),
            result: None,
        }))
    }

    /// Removes the case with this index; the indices of the others do not
    /// change.
    ///
    /// # Panics
    /// If no case has this index (never added, or already removed).
    ///
    /// ```
    /// use weft::{chan, Select};
    /// let (_tx1, rx1) = chan::<u8>(1);
    /// let (tx2, rx2) = chan::<u8>(1);
    /// tx2.send(2).unwrap();
    /// let mut sel = Select::new();
    /// let i1 = sel.recv(&rx1);
    /// let i2 = sel.recv(&rx2);
    /// sel.remove(i1);
    /// assert_eq!(sel.select().index(), i2);
    /// ```
    #[track_caller]
    pub fn remove(&mut self, index: usize) {
        match self.slots.get_mut(index) {
            Some(s @ Some(_)) => *s = None,
            _ => panic!("Select::remove: no operation with index {index}"),
        }
    }

    fn push(&mut self, slot: Box<dyn Slot<'a> + 'a>) -> usize {
        self.slots.push(Some(slot));
        self.slots.len() - 1
    }

    /// Parks until one case completes, and returns it. When several are
    /// ready, one is chosen uniformly at random. With no enabled case it
    /// blocks for ever (Go's select over nil channels).
    ///
    /// ```
    /// use weft::{chan, Select};
    /// let (tx, rx) = chan::<u64>(0);
    /// weft::go!(move || tx.send(42).unwrap());
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().recv(&rx), Ok(42));
    /// ```
    pub fn select(&mut self) -> SelectedOperation<'_, 'a> {
        if self.slots.iter().all(Option::is_none) {
            select_no_cases();
        }
        match self.run(None, false) {
            Some(index) => SelectedOperation { sel: self, index },
            None => crate::throw("Select::select returned without a case"),
        }
    }

    /// Completes a ready case if there is one (Go's select with
    /// `default`); `Err(TrySelectError)` when none is ready.
    ///
    /// ```
    /// use weft::{chan, Select, TrySelectError};
    /// let (_tx, rx) = chan::<u8>(0);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.try_select().err(), Some(TrySelectError));
    /// ```
    pub fn try_select(&mut self) -> Result<SelectedOperation<'_, 'a>, TrySelectError> {
        match self.run(None, true) {
            Some(index) => Ok(SelectedOperation { sel: self, index }),
            None => Err(TrySelectError),
        }
    }

    /// Like [`select`](Self::select), but gives up after `timeout`. The
    /// timeout is one more receive case, on a timer that is stopped when
    /// the call returns (no timer is left pending).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::{chan, Select, SelectTimeoutError};
    /// let (_tx, rx) = chan::<u8>(0);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// let r = sel.select_timeout(Duration::from_millis(5));
    /// assert_eq!(r.err(), Some(SelectTimeoutError));
    /// ```
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.select_deadline(deadline),
            None => Ok(self.select()),
        }
    }

    /// Like [`select_timeout`](Self::select_timeout), with a deadline.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weft::{chan, Select};
    /// let (tx, rx) = chan::<u8>(1);
    /// tx.send(1).unwrap();
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// let op = sel.select_deadline(Instant::now() + Duration::from_secs(1)).unwrap();
    /// assert_eq!(op.recv(&rx), Ok(1));
    /// ```
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        let now = Instant::now();
        let index = if deadline <= now {
            self.run(None, true)
        } else {
            self.run(Some(deadline - now), false)
        };
        match index {
            Some(index) => Ok(SelectedOperation { sel: self, index }),
            None => Err(SelectTimeoutError),
        }
    }

    /// One call of `select_run` over fresh cases (plus a timer case when
    /// `timeout` is set). Returns the index of the case that fired, `None`
    /// for default or timeout.
    fn run(&mut self, timeout: Option<Duration>, has_default: bool) -> Option<usize> {
        let timer = timeout.map(Timer::new);
        let mut timer_case = timer.as_ref().map(|t| RecvCase::new(&t.c));
        let mut armed: Vec<(usize, Box<dyn Armed<'_> + '_>)> = self
            .slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| Some((i, s.as_mut()?.arm()?)))
            .collect();
        {
            let mut cases: Vec<&mut dyn Case<'_>> =
                armed.iter_mut().map(|(_, a)| a.case()).collect();
            if let Some(tc) = timer_case.as_mut() {
                cases.push(tc);
            }
            select_run(&mut cases, has_default);
        }
        if let Some(t) = &timer {
            t.stop();
        }
        let mut fired = None;
        for (i, a) in armed {
            if a.finish() {
                fired = Some(i);
            }
        }
        fired
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cases: Vec<_> = self
            .slots
            .iter()
            .map(|s| s.as_ref().map_or("removed", |s| s.kind()))
            .collect();
        f.debug_struct("Select").field("cases", &cases).finish()
    }
}

impl<'s, 'a> SelectedOperation<'s, 'a> {
    /// The index of the completed case (as returned when it was added).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The result of the completed receive case on `rx`: `Ok(value)`, or
    /// `Err(RecvError)` if the channel was closed and drained.
    ///
    /// # Panics
    /// If `rx` is not the receiver the chosen case was added with (the
    /// same object, as crossbeam requires).
    #[track_caller]
    pub fn recv<T: 'static>(self, rx: &Receiver<T>) -> Result<T, RecvError> {
        self.take::<Result<T, RecvError>>(rx as *const Receiver<T> as *const (), "recv")
    }

    /// The result of the completed send case on `tx`: `Ok(())`, or
    /// `Err(SendError(value))` with the value back if the channel was
    /// closed (or every receiver gone).
    ///
    /// # Panics
    /// If `tx` is not the sender the chosen case was added with.
    #[track_caller]
    pub fn send<T: 'static>(self, tx: &Sender<T>) -> Result<(), SendError<T>> {
        self.take::<Result<(), SendError<T>>>(tx as *const Sender<T> as *const (), "send")
    }

    #[track_caller]
    fn take<R: 'static>(self, handle: *const (), what: &str) -> R {
        let Some(Some(slot)) = self.sel.slots.get_mut(self.index) else {
            crate::throw("SelectedOperation: its case is gone");
        };
        assert!(
            slot.handle() == handle,
            "SelectedOperation::{what}: passed a {} that wasn't selected (case {} is a {} case on another channel handle)",
            if what == "recv" { "receiver" } else { "sender" },
            self.index,
            slot.kind(),
        );
        match slot
            .result()
            .downcast_mut::<Option<R>>()
            .and_then(Option::take)
        {
            Some(r) => r,
            None => panic!(
                "SelectedOperation::{what}: case {} is a {} case",
                self.index,
                slot.kind()
            ),
        }
    }
}

impl fmt::Debug for SelectedOperation<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}
