//! Go's `context` package: cancellation, deadlines and request-scoped
//! values carried down a call graph.
//!
//! ```
//! use std::time::Duration;
//! use weft::context::{self, Error};
//! use weft::select;
//!
//! let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(20));
//! let outcome = select! {
//!     recv(ctx.done()) -> _ => ctx.err(),
//!     recv(weft::time::after(Duration::from_secs(60))) -> _ => None,
//! };
//! assert_eq!(outcome, Some(Error::DeadlineExceeded));
//! assert_eq!(outcome.unwrap().to_string(), "context deadline exceeded");
//! ```
//!
//! Owns: the tree of cancellable contexts. Each cancellable context has
//! one node: its error (set once), its done channel (made on first use),
//! its children, its deadline timer. Every node is changed only under its
//! own lock, and no code holds two nodes' locks at once:
//!
//! - creating a child locks the parent: if the parent is already
//!   cancelled the child is born cancelled with the parent's error,
//!   otherwise the child is added to the parent's children — so a child
//!   created while its parent is being cancelled is either in the set the
//!   cancel takes, or sees the error;
//! - cancelling sets the error and takes the children, the timer and the
//!   done channel's sender under the node's lock, then (unlocked) stops
//!   the timer, closes the done channel, cancels each child the same way
//!   and removes the node from its parent's children.
//!
//! No goroutine per context: a deadline is a runtime timer
//! (`weft::runtime::timer`) whose callback cancels the node, which only
//! takes short locks, closes channels and cancels timers — it never
//! parks. Cancelling releases the timer at once, so a cancelled context
//! leaves no pending timer.
//!
//! Dropping a [`CancelFunc`] or [`CancelCauseFunc`] (its last clone)
//! cancels its context, as Go's `defer cancel()` does; see [`CancelFunc`].
//!
//! A node also keeps, under its lock, the cause of its cancellation (Go's
//! `context.Cause`; set with the error, so the two always agree) and, for
//! a node made by [`after_func`], the function to start when it is
//! cancelled: cancelling takes the function under the lock (so exactly one
//! of a cancel and [`AfterFuncStop::stop`] gets it) and spawns its
//! goroutine after the lock is released.
//!
//! Must never: hold two nodes' locks at once, park inside a timer
//! callback, run an [`after_func`] function itself (it spawns it), or set
//! a node's error twice.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use weft_channels::{chan, never, Receiver, Sender};
use weft_runtime::timer::{self, TimerId};

/// Why a context was cancelled: what [`Context::err`] returns (Go's
/// `context.Canceled` and `context.DeadlineExceeded`, with Go's messages).
///
/// ```
/// use weft::context::Error;
/// assert_eq!(Error::Canceled.to_string(), "context canceled");
/// assert_eq!(Error::DeadlineExceeded.to_string(), "context deadline exceeded");
/// assert!(Error::DeadlineExceeded.is_timeout());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// Cancelled by a [`CancelFunc`] (or a parent's).
    Canceled,
    /// Its deadline passed (or a parent's did).
    DeadlineExceeded,
}

impl Error {
    /// `true` for `DeadlineExceeded` (Go's `Timeout()` method).
    pub fn is_timeout(&self) -> bool {
        *self == Error::DeadlineExceeded
    }

    fn code(self) -> u8 {
        match self {
            Error::Canceled => CANCELED,
            Error::DeadlineExceeded => DEADLINE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Canceled => "context canceled",
            Error::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for Error {}

const LIVE: u8 = 0;
const CANCELED: u8 = 1;
const DEADLINE: u8 = 2;

/// A context: a cancellation signal, an optional deadline and values,
/// handed down a call graph (Go's `context.Context`). Cheap to clone;
/// `Send + Sync`.
///
/// Contexts form a tree: each is derived from a parent by [`with_cancel`],
/// [`with_timeout`], [`with_deadline`] (and their `_cause` forms),
/// [`with_value`] or [`without_cancel`], starting from [`background`] or
/// [`todo()`]. Cancelling a context cancels all of its descendants (up to a
/// [`without_cancel`]).
///
/// ```
/// use weft::context;
/// let (parent, cancel) = context::with_cancel(&context::background());
/// let (child, _child_cancel) = context::with_cancel(&parent);
/// let waiter = weft::go!(move || {
///     for _ in &child.done() {} // Go's <-ctx.Done()
///     child.err()
/// });
/// cancel.cancel();
/// assert_eq!(waiter.join().unwrap(), Some(context::Error::Canceled));
/// ```
#[derive(Clone)]
pub struct Context(Option<Arc<Frame>>);

/// One derivation step.
struct Frame {
    parent: Context,
    kind: Kind,
    /// The nearest cancellable node, this frame's own or an ancestor's.
    node: Option<Arc<Node>>,
    deadline: Option<Instant>,
}

enum Kind {
    Cancel,
    Deadline,
    Value(&'static str, Box<dyn Any + Send + Sync>),
    /// [`todo()`]'s root (no parent, no node).
    Todo,
    /// [`without_cancel`]: the parent's values, no node, no deadline.
    WithoutCancel,
}

/// Why a context was cancelled, in the caller's words (Go's
/// `context.Cause`): any error, shared. See [`with_cancel_cause`] and
/// [`cause`].
///
/// ```
/// use std::sync::Arc;
/// let c: weft::context::Cause = Arc::new(std::io::Error::other("too slow"));
/// assert_eq!(c.to_string(), "too slow");
/// ```
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// `err` as a [`Cause`] (one shared `Arc` per error: no allocation per
/// cancel).
fn err_cause(err: Error) -> Cause {
    static CANCELED_CAUSE: OnceLock<Cause> = OnceLock::new();
    static DEADLINE_CAUSE: OnceLock<Cause> = OnceLock::new();
    let cell = match err {
        Error::Canceled => &CANCELED_CAUSE,
        Error::DeadlineExceeded => &DEADLINE_CAUSE,
    };
    cell.get_or_init(|| Arc::new(err)).clone()
}

/// An [`after_func`] function, waiting for its node to be cancelled, and
/// where `after_func` was called: its goroutine's spawn site.
struct AfterFn {
    f: Box<dyn FnOnce() + Send + 'static>,
    site: &'static Location<'static>,
}

/// A cancellable context's shared state.
struct Node {
    /// `LIVE`, `CANCELED` or `DEADLINE`; written once, under `state`'s
    /// lock, read without it.
    err: AtomicU8,
    state: Mutex<NodeState>,
    /// The parent's node, to leave its children when cancelled first.
    parent: Weak<Node>,
}

struct NodeState {
    /// The done channel, made by the first `done()` (Go makes it lazily
    /// too); the sender is dropped — closing it — on cancel.
    done: Option<(Sender<()>, Receiver<()>)>,
    /// Live children, by address.
    children: HashMap<usize, Arc<Node>, BuildAddrHasher>,
    timer: Option<TimerId>,
    /// The cause given with the cancel, set with the error; `None`: no
    /// cause was given (or the node is live), the cause is the error.
    cause: Option<Cause>,
    /// [`after_func`]'s function, until a cancel or a stop takes it.
    after: Option<AfterFn>,
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    fn err(&self) -> Option<Error> {
        // Acquire: pairs with the Release store in `cancel`.
        match self.err.load(Ordering::Acquire) {
            CANCELED => Some(Error::Canceled),
            DEADLINE => Some(Error::DeadlineExceeded),
            _ => None,
        }
    }

    /// A node under `parent` (`None`: under a context that is never
    /// cancelled), with `after` to start when it is cancelled. Born
    /// cancelled, with the parent's error and cause, if the parent already
    /// is.
    fn new(parent: Option<&Arc<Node>>, after: Option<AfterFn>) -> Arc<Node> {
        let node = Arc::new(Node {
            err: AtomicU8::new(LIVE),
            state: Mutex::new(NodeState {
                done: None,
                children: HashMap::default(),
                timer: None,
                cause: None,
                after,
            }),
            parent: parent.map_or_else(Weak::new, Arc::downgrade),
        });
        if let Some(p) = parent {
            let mut ps = p.lock();
            match p.err() {
                Some(e) => {
                    let cause = ps.cause.clone();
                    drop(ps);
                    node.cancel(e, cause);
                }
                None => {
                    ps.children.insert(node.key(), node.clone());
                }
            }
        }
        node
    }

    /// Cancels this node and its whole subtree with `err` and `cause`
    /// (`None`: the cause is `err`; a no-op if it is already cancelled),
    /// and leaves its parent's children.
    fn cancel(self: &Arc<Self>, err: Error, cause: Option<Cause>) {
        if !self.cancel_one(err, cause) {
            return;
        }
        if let Some(p) = self.parent.upgrade() {
            p.lock().children.remove(&self.key());
        }
    }

    /// Cancels this node and its subtree, iteratively (a deep chain must
    /// not overflow a goroutine's stack). Returns whether it was live.
    fn cancel_one(self: &Arc<Self>, err: Error, cause: Option<Cause>) -> bool {
        let mut stack = vec![self.clone()];
        let mut first = true;
        while let Some(n) = stack.pop() {
            let (children, timer, after) = {
                let mut st = n.lock();
                if n.err.load(Ordering::Relaxed) != LIVE {
                    if first {
                        return false;
                    }
                    continue;
                }
                // Release: a goroutine that sees the done channel closed,
                // or this value, also sees everything before the cancel.
                n.err.store(err.code(), Ordering::Release);
                // Every node of the subtree gets this cancel's cause (Go
                // passes the parent's cause down).
                st.cause.clone_from(&cause);
                // The error, then the close, both under the lock (as Go
                // does both under `c.mu`): whoever sees `done()` closed
                // finds the error set, and `Context::err`, having seen
                // the error, takes the lock once so that it finds `done()`
                // closed too (Go issue 75533, TestContextErrDoneRace).
                // Closing only readies the receivers.
                if let Some((tx, _)) = st.done.take() {
                    let _ = tx.close();
                }
                (
                    std::mem::take(&mut st.children),
                    st.timer.take(),
                    st.after.take(),
                )
            };
            first = false;
            if let Some(t) = timer {
                timer::cancel(&t);
            }
            if let Some(a) = after {
                // Its own goroutine (Go's `go a.f()`): a cancel never waits
                // for it, and a timer callback never runs user code.
                drop(weft_runtime::spawn_at(a.f, a.site));
            }
            stack.extend(children.into_values());
        }
        true
    }

    /// A receiver of the done channel: made on first use, or the shared
    /// closed one once cancelled.
    fn done(&self) -> Receiver<()> {
        let mut st = self.lock();
        if self.err().is_some() {
            return closed();
        }
        st.done.get_or_insert_with(|| chan(0)).1.clone()
    }

    /// Arms the deadline timer of a fresh node; `cause` is the cause it
    /// cancels with.
    fn arm(self: &Arc<Self>, at: Instant, cause: Option<Cause>) {
        if self.err().is_some() {
            return; // born cancelled
        }
        if at <= Instant::now() {
            self.cancel(Error::DeadlineExceeded, cause);
            return;
        }
        let weak = Arc::downgrade(self);
        let id = timer::add(at, move || {
            if let Some(n) = weak.upgrade() {
                n.cancel(Error::DeadlineExceeded, cause);
            }
        });
        let mut st = self.lock();
        if self.err().is_some() {
            // Cancelled (by the parent) while the timer was being added.
            drop(st);
            timer::cancel(&id);
        } else {
            st.timer = Some(id);
        }
    }
}

/// The done channel of every context cancelled before its first `done()`
/// (Go's `closedchan`).
fn closed() -> Receiver<()> {
    static CLOSED: OnceLock<Receiver<()>> = OnceLock::new();
    CLOSED
        .get_or_init(|| {
            let (tx, rx) = chan(0);
            drop(tx);
            rx
        })
        .clone()
}

/// Children are keyed by their node's address: a multiplicative hash
/// (Fibonacci hashing) is all such a key needs, and SipHash costs more
/// than the rest of creating a context.
#[derive(Clone, Copy, Default)]
struct BuildAddrHasher;

#[derive(Default)]
struct AddrHasher(u64);

impl BuildHasher for BuildAddrHasher {
    type Hasher = AddrHasher;
    fn build_hasher(&self) -> AddrHasher {
        AddrHasher(0)
    }
}

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The root context: never cancelled, no deadline, no values (Go's
/// `context.Background()`; [`todo()`] is the same but for its name).
///
/// ```
/// let bg = weft::context::background();
/// assert_eq!(bg.err(), None);
/// assert_eq!(bg.deadline(), None);
/// assert!(bg.done().try_recv().is_err()); // never ready
/// ```
pub fn background() -> Context {
    Context(None)
}

/// Cancels a context made by [`with_cancel`], [`with_timeout`] or
/// [`with_deadline`] (Go's `context.CancelFunc`). Clone it to cancel from
/// several places; cancelling again is a no-op.
///
/// **Dropping the last clone cancels the context** (with
/// [`Error::Canceled`], unless it was cancelled already), as Go's
/// `defer cancel()` would. Go leaks a context whose cancel function is
/// lost (`go vet` warns about it); here the drop releases the deadline
/// timer and the parent's reference instead, and nothing can wait for a
/// cancel that can no longer happen. So keep the `CancelFunc` alive for as
/// long as the context should live — `let (ctx, _cancel) = ...` keeps it to
/// the end of the scope; `let (ctx, _) = ...` cancels at once.
///
/// ```
/// use weft::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// drop(cancel);
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// ```
#[derive(Clone)]
pub struct CancelFunc(Arc<CancelOnDrop>);

struct CancelOnDrop(Arc<Node>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel(Error::Canceled, None);
    }
}

impl CancelFunc {
    /// Cancels the context and every context derived from it: their
    /// `done()` channels close and `err()` becomes `Some(Canceled)`
    /// (unless already cancelled). Safe to call from many goroutines at
    /// once.
    ///
    /// ```
    /// use weft::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// cancel.cancel();
    /// cancel.cancel(); // no-op
    /// assert!(ctx.done().recv().is_err()); // closed
    /// ```
    pub fn cancel(&self) {
        (self.0).0.cancel(Error::Canceled, None);
    }
}

impl fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelFunc")
            .field("cancelled", &(self.0).0.err().is_some())
            .finish()
    }
}

fn derive(parent: &Context, kind: Kind, deadline: Option<Instant>) -> (Context, CancelFunc) {
    let node = Node::new(parent.node(), None);
    let ctx = Context(Some(Arc::new(Frame {
        parent: parent.clone(),
        kind,
        node: Some(node.clone()),
        deadline,
    })));
    (ctx, CancelFunc(Arc::new(CancelOnDrop(node))))
}

/// A child of `parent` that is cancelled by the returned [`CancelFunc`]
/// or when `parent` is (Go's `context.WithCancel`). If `parent` is
/// already cancelled, so is the child.
///
/// ```
/// use weft::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// assert_eq!(ctx.err(), None);
/// cancel.cancel();
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// ```
pub fn with_cancel(parent: &Context) -> (Context, CancelFunc) {
    let deadline = parent.deadline();
    derive(parent, Kind::Cancel, deadline)
}

/// A child of `parent` that is cancelled with
/// [`Error::DeadlineExceeded`] at `deadline`, by the returned
/// [`CancelFunc`], or when `parent` is (Go's `context.WithDeadline`). A
/// deadline later than the parent's changes nothing (the parent's comes
/// first); one already past gives a context born cancelled.
///
/// ```
/// use std::time::{Duration, Instant};
/// use weft::context;
/// let at = Instant::now() + Duration::from_millis(5);
/// let (ctx, _cancel) = context::with_deadline(&context::background(), at);
/// assert_eq!(ctx.deadline(), Some(at));
/// let _ = ctx.done().recv(); // closed at the deadline
/// assert_eq!(ctx.err(), Some(context::Error::DeadlineExceeded));
/// ```
pub fn with_deadline(parent: &Context, deadline: Instant) -> (Context, CancelFunc) {
    with_deadline_cause(parent, deadline, None)
}

/// `with_deadline(parent, now + timeout)` (Go's `context.WithTimeout`).
///
/// ```
/// use std::time::Duration;
/// use weft::context;
/// let (ctx, cancel) = context::with_timeout(&context::background(), Duration::from_secs(60));
/// assert!(ctx.deadline().is_some());
/// cancel.cancel(); // releases the timer at once
/// assert_eq!(ctx.err(), Some(context::Error::Canceled));
/// ```
pub fn with_timeout(parent: &Context, timeout: Duration) -> (Context, CancelFunc) {
    with_timeout_cause(parent, timeout, None)
}

/// A child of `parent` that carries `value` under `key` (Go's
/// `context.WithValue`); everything else comes from `parent`. Use it for
/// request-scoped data, not for optional parameters.
///
/// ```
/// use weft::context;
/// let ctx = context::with_value(&context::background(), "userID", "jane".to_string());
/// let ctx = context::with_value(&ctx, "authToken", 123u32);
/// assert_eq!(ctx.value::<String>("userID").map(String::as_str), Some("jane"));
/// assert_eq!(ctx.value::<u32>("authToken"), Some(&123));
/// assert_eq!(ctx.value::<u32>("missing"), None);
/// ```
pub fn with_value<V: Any + Send + Sync>(parent: &Context, key: &'static str, value: V) -> Context {
    Context(Some(Arc::new(Frame {
        parent: parent.clone(),
        kind: Kind::Value(key, Box::new(value)),
        node: parent.node().cloned(),
        deadline: parent.deadline(),
    })))
}

/// A child of `parent` like [`with_deadline`]'s, whose [`cause`] is
/// `cause` when the deadline cancels it (Go's
/// `context.WithDeadlineCause`; `None` is Go's `nil`: the cause is then
/// [`Error::DeadlineExceeded`]). Cancelled by the returned
/// [`CancelFunc`] first, its error and cause are both
/// [`Error::Canceled`]; by its parent, the parent's.
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
/// use weft::context::{self, Cause, Error};
/// let slow: Cause = Arc::new(std::io::Error::other("backend too slow"));
/// let at = Instant::now() + Duration::from_millis(5);
/// let (ctx, _cancel) = context::with_deadline_cause(&context::background(), at, Some(slow));
/// let _ = ctx.done().recv(); // closed at the deadline
/// assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "backend too slow");
/// ```
pub fn with_deadline_cause(
    parent: &Context,
    deadline: Instant,
    cause: Option<Cause>,
) -> (Context, CancelFunc) {
    if parent.deadline().is_some_and(|d| d <= deadline) {
        return with_cancel(parent);
    }
    let (ctx, cancel) = derive(parent, Kind::Deadline, Some(deadline));
    if let Some(n) = ctx.node() {
        n.arm(deadline, cause);
    }
    (ctx, cancel)
}

/// `with_deadline_cause(parent, now + timeout, cause)` (Go's
/// `context.WithTimeoutCause`).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use weft::context::{self, Cause, Error};
/// let slow: Cause = Arc::new(std::io::Error::other("too slow"));
/// let (ctx, _cancel) = context::with_timeout_cause(&context::background(), Duration::ZERO, Some(slow));
/// assert_eq!(ctx.err(), Some(Error::DeadlineExceeded)); // born past its deadline
/// assert_eq!(context::cause(&ctx).unwrap().to_string(), "too slow");
/// ```
pub fn with_timeout_cause(
    parent: &Context,
    timeout: Duration,
    cause: Option<Cause>,
) -> (Context, CancelFunc) {
    match Instant::now().checked_add(timeout) {
        Some(at) => with_deadline_cause(parent, at, cause),
        None => with_cancel(parent),
    }
}

/// Cancels a context made by [`with_cancel_cause`], with a cause (Go's
/// `context.CancelCauseFunc`). Clone it to cancel from several places;
/// the first cancel wins, later ones (and their causes) are no-ops.
///
/// Like [`CancelFunc`], **dropping the last clone cancels the context**,
/// with [`Error::Canceled`] as its error and cause (unless it was
/// cancelled already): keep it alive for as long as the context should
/// live.
///
/// ```
/// use weft::context::{self, Error};
/// let (ctx, cancel) = context::with_cancel_cause(&context::background());
/// drop(cancel);
/// assert_eq!(ctx.err(), Some(Error::Canceled));
/// let cause = context::cause(&ctx).unwrap();
/// assert_eq!(cause.downcast_ref::<Error>(), Some(&Error::Canceled));
/// ```
#[derive(Clone)]
pub struct CancelCauseFunc(Arc<CancelOnDrop>);

impl CancelCauseFunc {
    /// Cancels the context and every context derived from it, as
    /// [`CancelFunc::cancel`] does (their error becomes
    /// [`Error::Canceled`]), and sets their [`cause`] to `cause` (`None`,
    /// Go's `nil`: the cause is `Error::Canceled`). A no-op if the context
    /// was already cancelled: the first cancel's error and cause stay.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::context::{self, Cause, Error};
    /// let (ctx, cancel) = context::with_cancel_cause(&context::background());
    /// let why: Cause = Arc::new(std::io::Error::other("client went away"));
    /// cancel.cancel(Some(why.clone()));
    /// cancel.cancel(None); // no-op: the first cancel wins
    /// assert_eq!(ctx.err(), Some(Error::Canceled));
    /// assert!(Arc::ptr_eq(&context::cause(&ctx).unwrap(), &why));
    /// ```
    pub fn cancel(&self, cause: Option<Cause>) {
        (self.0).0.cancel(Error::Canceled, cause);
    }
}

impl fmt::Debug for CancelCauseFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelCauseFunc")
            .field("cancelled", &(self.0).0.err().is_some())
            .finish()
    }
}

/// [`with_cancel`] whose cancel function takes a cause (Go's
/// `context.WithCancelCause`): read it back with [`cause`].
///
/// ```
/// use std::sync::Arc;
/// use weft::context::{self, Cause, Error};
/// let (parent, cancel) = context::with_cancel_cause(&context::background());
/// let (child, _child_cancel) = context::with_cancel(&parent);
/// cancel.cancel(Some(Arc::new(std::io::Error::other("shutting down")) as Cause));
/// assert_eq!(child.err(), Some(Error::Canceled));
/// assert_eq!(context::cause(&child).unwrap().to_string(), "shutting down");
/// ```
pub fn with_cancel_cause(parent: &Context) -> (Context, CancelCauseFunc) {
    let (ctx, CancelFunc(inner)) = with_cancel(parent);
    (ctx, CancelCauseFunc(inner))
}

/// Why `ctx` was cancelled (Go's `context.Cause`): `None` while it is
/// live (and always for a context that cannot be cancelled); otherwise the
/// cause given to the first cancel that reached it — its own
/// [`CancelCauseFunc`], a [`with_deadline_cause`] deadline, or an
/// ancestor's (a child cancelled by its parent reports the parent's
/// cause). A cancel without a cause (a [`CancelFunc`], a plain deadline,
/// `cancel(None)`) gives [`Context::err`]'s error as the cause (an `Arc`
/// of [`Error`]). Read under the node's lock: once `cause` is `Some`,
/// `err()` is too, and `done()` is closed.
///
/// ```
/// use weft::context::{self, Error};
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// assert!(context::cause(&ctx).is_none());
/// cancel.cancel();
/// let cause = context::cause(&ctx).unwrap();
/// assert_eq!(cause.downcast_ref::<Error>(), Some(&Error::Canceled));
/// ```
pub fn cause(ctx: &Context) -> Option<Cause> {
    let n = ctx.node()?;
    let st = n.lock();
    let err = n.err()?;
    Some(st.cause.clone().unwrap_or_else(|| err_cause(err)))
}

/// The context for code that will take a real one later (Go's
/// `context.TODO()`): like [`background`] (never cancelled, no deadline,
/// no values), but prints as `context.TODO`, so a reader knows a context
/// is still to be passed in.
///
/// ```
/// let todo = weft::context::todo();
/// assert_eq!(todo.err(), None);
/// assert!(todo.done().try_recv().is_err()); // never ready
/// assert_eq!(format!("{todo:?}"), "context.TODO");
/// ```
pub fn todo() -> Context {
    static TODO: OnceLock<Context> = OnceLock::new();
    TODO.get_or_init(|| {
        Context(Some(Arc::new(Frame {
            parent: background(),
            kind: Kind::Todo,
            node: None,
            deadline: None,
        })))
    })
    .clone()
}

/// A child of `parent` that keeps its values and nothing else (Go's
/// `context.WithoutCancel`): it is never cancelled — cancelling `parent`
/// reaches neither it nor the contexts derived from it — has no deadline,
/// its `done()` never closes (as [`background`]'s), and its `err()` and
/// [`cause`] are `None`. For work that must outlive the request that
/// started it but keep its values (a trace id, say).
///
/// ```
/// use weft::context;
/// let (parent, cancel) = context::with_cancel(&context::background());
/// let parent = context::with_value(&parent, "trace", 7u64);
/// let detached = context::without_cancel(&parent);
/// let (child, _c) = context::with_cancel(&detached);
/// cancel.cancel();
/// assert!(parent.err().is_some());
/// assert_eq!(detached.err(), None);
/// assert_eq!(child.err(), None);
/// assert_eq!(detached.value::<u64>("trace"), Some(&7));
/// ```
pub fn without_cancel(parent: &Context) -> Context {
    Context(Some(Arc::new(Frame {
        parent: parent.clone(),
        kind: Kind::WithoutCancel,
        node: None,
        deadline: None,
    })))
}

/// Arranges for `f` to run, once, in its own goroutine, when `ctx` is done
/// (Go's `context.AfterFunc`; Rust has no better name for it). If `ctx` is
/// already done, `f`'s goroutine is started at once (`after_func` does
/// not wait for it). For a context that can never be cancelled, `f` never
/// runs. Several `after_func`s on one context run independently.
///
/// The returned [`AfterFuncStop`] undoes the arrangement. Dropping it
/// does not: `f` still runs when `ctx` is done (as Go's discarded `stop`).
///
/// ```
/// use weft::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let (tx, rx) = weft::chan::<&str>(1);
/// let _stop = context::after_func(&ctx, move || {
///     let _ = tx.send("ran");
/// });
/// cancel.cancel();
/// assert_eq!(rx.recv(), Ok("ran"));
/// ```
#[track_caller] // `f`'s goroutine is created by the caller
pub fn after_func(ctx: &Context, f: impl FnOnce() + Send + 'static) -> AfterFuncStop {
    let after = AfterFn {
        f: Box::new(f),
        site: Location::caller(),
    };
    AfterFuncStop(Node::new(ctx.node(), Some(after)))
}

/// Stops an [`after_func`] (Go's `stop` function returned by
/// `context.AfterFunc`). Clone it to stop from several places.
///
/// ```
/// use weft::context;
/// let (ctx, cancel) = context::with_cancel(&context::background());
/// let stop = context::after_func(&ctx, || unreachable!("stopped"));
/// assert!(stop.stop());  // f will never run
/// assert!(!stop.stop()); // already stopped
/// cancel.cancel();
/// ```
#[derive(Clone)]
pub struct AfterFuncStop(Arc<Node>);

impl AfterFuncStop {
    /// Stops the association of `f` with the context: `true` if this call
    /// stopped `f` from being started, `false` if `f` was already started
    /// (the context is done) or the association was already stopped.
    /// `stop` does not wait for a started `f` to finish. A stopped
    /// association leaves its context's tree (nothing is kept).
    ///
    /// ```
    /// use weft::context;
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let (tx, rx) = weft::chan::<()>(1);
    /// let stop = context::after_func(&ctx, move || {
    ///     let _ = tx.send(());
    /// });
    /// cancel.cancel();
    /// assert!(!stop.stop()); // f was already started
    /// assert_eq!(rx.recv(), Ok(()));
    /// ```
    pub fn stop(&self) -> bool {
        let f = self.0.lock().after.take();
        let stopped = f.is_some();
        if stopped {
            // Leaves the parent's children; `f` is gone, so nothing starts.
            self.0.cancel(Error::Canceled, None);
        }
        // Dropped last and unlocked: its captures may do anything on drop,
        // panic included, and the tree is already right.
        drop(f);
        stopped
    }
}

impl fmt::Debug for AfterFuncStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfterFuncStop")
            .field("pending", &self.0.lock().after.is_some())
            .finish()
    }
}

impl Context {
    fn node(&self) -> Option<&Arc<Node>> {
        self.0.as_ref()?.node.as_ref()
    }

    /// Whether anything can ever cancel this context (`false` for
    /// [`background`] and values over it).
    pub(crate) fn can_be_cancelled(&self) -> bool {
        self.node().is_some()
    }

    /// A channel that is closed when this context is cancelled (Go's
    /// `ctx.Done()`): a `recv` on it returns `Err` then, and `for _ in
    /// &ctx.done() {}` ends. Use it in `select!` beside other work. For a
    /// context that can never be cancelled ([`background`], and values
    /// over it) it is never ready, like Go's nil channel.
    ///
    /// Do not close it yourself (a `Receiver` can close its channel): that
    /// would look like a cancellation with no `err()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::{context, select};
    /// let (ctx, cancel) = context::with_cancel(&context::background());
    /// let (tx, rx) = weft::chan::<u32>(0);
    /// let worker = weft::go!(move || {
    ///     let mut n = 0;
    ///     loop {
    ///         select! {
    ///             recv(ctx.done()) -> _ => return n,
    ///             send(tx, n) -> _ => n += 1,
    ///         }
    ///     }
    /// });
    /// assert_eq!(rx.recv(), Ok(0));
    /// assert_eq!(rx.recv(), Ok(1));
    /// cancel.cancel();
    /// assert!(worker.join().unwrap() >= 2);
    /// ```
    pub fn done(&self) -> Receiver<()> {
        match self.node() {
            Some(n) => n.done(),
            None => never(),
        }
    }

    /// `None` while the context is live; after cancellation, why (Go's
    /// `ctx.Err()`). Once `done()` is closed this is `Some`.
    ///
    /// ```
    /// let bg = weft::context::background();
    /// assert_eq!(bg.err(), None);
    /// ```
    pub fn err(&self) -> Option<Error> {
        let n = self.node()?;
        let e = n.err()?;
        // The canceller stores the error and closes the done channel under
        // the node's lock (`cancel_one`): once past that lock, the close is
        // done. Only a cancelled context pays for it.
        drop(n.lock());
        Some(e)
    }

    /// When this context will be cancelled by a deadline, its own or an
    /// ancestor's, whichever is first (Go's `ctx.Deadline()`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::context;
    /// let (outer, _c1) = context::with_timeout(&context::background(), Duration::from_secs(1));
    /// let (inner, _c2) = context::with_timeout(&outer, Duration::from_secs(60));
    /// assert_eq!(inner.deadline(), outer.deadline()); // the earlier one
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.0.as_ref()?.deadline
    }

    /// The value stored under `key` by the nearest [`with_value`] on the
    /// way to the root (Go's `ctx.Value(key)`), if it is a `V`. A nearer
    /// value of another type under the same key shadows it (`None`).
    ///
    /// ```
    /// use weft::context;
    /// let ctx = context::with_value(&context::background(), "n", 1u8);
    /// let ctx = context::with_value(&ctx, "n", 2u8);
    /// assert_eq!(ctx.value::<u8>("n"), Some(&2));
    /// assert_eq!(ctx.value::<i64>("n"), None);
    /// ```
    pub fn value<V: Any>(&self, key: &str) -> Option<&V> {
        let mut cur = self.0.as_deref();
        while let Some(f) = cur {
            if let Kind::Value(k, v) = &f.kind {
                if *k == key {
                    return v.downcast_ref::<V>();
                }
            }
            cur = f.parent.0.as_deref();
        }
        None
    }
}

impl Drop for Frame {
    /// Unlinks the chain of parents this frame was the last owner of one
    /// by one: a deep chain must not recurse (and overflow a goroutine's
    /// stack) when it is dropped.
    fn drop(&mut self) {
        let mut next = self.parent.0.take();
        while let Some(frame) = next {
            match Arc::try_unwrap(frame) {
                Ok(mut f) => next = f.parent.0.take(),
                Err(_) => break,
            }
        }
    }
}

impl Default for Context {
    /// [`background`].
    fn default() -> Self {
        background()
    }
}

impl fmt::Debug for Context {
    /// Go's `String()`: the chain of derivations, e.g.
    /// `context.Background.WithCancel.WithValue(key)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        let mut root = "context.Background";
        let mut cur = self.0.as_deref();
        while let Some(fr) = cur {
            names.push(match &fr.kind {
                Kind::Cancel => "WithCancel".to_string(),
                Kind::Deadline => "WithDeadline".to_string(),
                Kind::Value(k, _) => format!("WithValue({k})"),
                Kind::WithoutCancel => "WithoutCancel".to_string(),
                Kind::Todo => {
                    root = "context.TODO";
                    break;
                }
            });
            cur = fr.parent.0.as_deref();
        }
        f.write_str(root)?;
        for n in names.iter().rev() {
            write!(f, ".{n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Panics when dropped.
    struct PanicOnDrop;

    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("expected: an after_func capture panics on drop");
            }
        }
    }

    /// `stop` drops the function it stopped; a capture that panics there
    /// reaches the caller, after the stopped node has left its parent (a
    /// node left behind would be kept until the parent is cancelled).
    #[test]
    fn a_stop_whose_dropped_function_panics_still_leaves_the_tree() {
        let (ctx, _cancel) = with_cancel(&background());
        let guard = PanicOnDrop;
        let stop = after_func(&ctx, move || {
            let _keep = &guard;
        });
        let children = || ctx.node().unwrap().lock().children.len();
        assert_eq!(children(), 1);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stop.stop()));
        assert!(r.is_err(), "the capture's panic reaches the caller");
        assert_eq!(children(), 0, "the stopped node left its parent");
        assert!(!stop.stop(), "stopped already");
    }
}
