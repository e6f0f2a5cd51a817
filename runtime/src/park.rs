//! The parking primitive: the one way anything in weft blocks.
//!
//! Owns: [`park`] (suspend the current goroutine, or park the current plain
//! thread) and [`Unparker`] (make it runnable again). Channels, `sync`,
//! timers, `join` and I/O are all built on these two and nothing else.
//!
//! The handshake (Go's `gopark`/`goready`, with a token so no wake-up is
//! ever lost), on the G's `park` word:
//!
//! ```text
//!   parker (on the G's stack)        M, after the switch            waker (any thread)
//!   -------------------------        ------------------------       ------------------
//!   set wait reason
//!   suspend(Switch::Park(commit)) -> run commit (e.g. unlock)
//!                                    CAS EMPTY -> PARKED            CAS PARKED -> EMPTY, ready(g)
//!                                      ok: G is parked                or EMPTY -> NOTIFIED
//!                                      failed (NOTIFIED): run again   or NOTIFIED: nothing
//! ```
//!
//! A waker that comes before the M has published `PARKED` (it may come from
//! inside the commit closure, or from another M that saw the waiter the
//! commit just made visible) leaves `NOTIFIED`, and the M resumes the G
//! itself instead of parking it. A waker that comes after sees `PARKED` and
//! queues the G. Either way the G is resumed exactly once, and never while it
//! is still on its stack.
//!
//! Like `std::thread::park`, a park may return without a matching
//! `unpark` (a token left by an earlier waker): callers always re-check
//! their condition in a loop.
//!
//! Must never: resume a G from the waker's side while its M may still be
//! running its commit closure, or lose a wake-up.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, Thread};

use crate::coro::{self, Switch};
use crate::g::{GRef, WaitReason, PARK_EMPTY, PARK_NOTIFIED, PARK_PARKED};
use crate::sched::{self, p::PCounters};

/// Parks the current goroutine (or, on a plain OS thread, the thread) until
/// an [`Unparker`] for it is used.
///
/// `commit` runs once the goroutine is off its stack and before anyone can
/// resume it — typically it releases the lock that protects the wait queue
/// the caller has just joined (Go's `unlockf`). On a plain thread it runs
/// before the thread blocks. `reason` is what the goroutine dump and the
/// deadlock report print.
///
/// May return spuriously: re-check the condition you wait for in a loop.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use weft::runtime::park::{park, unparker};
/// use weft::WaitReason;
///
/// let slot: Arc<Mutex<Option<u32>>> = Arc::default();
/// let s = slot.clone();
/// let me = unparker();
/// std::thread::spawn(move || {
///     *s.lock().unwrap() = Some(7);
///     me.unpark();
/// });
/// while slot.lock().unwrap().is_none() {
///     park(WaitReason::Park, || {});
/// }
/// assert_eq!(*slot.lock().unwrap(), Some(7));
/// ```
pub fn park(reason: WaitReason, commit: impl FnOnce()) {
    match sched::current_g() {
        Some(g) => park_g(&g, reason, commit),
        None => {
            if sched::current_m().is_some_and(|m| !m.in_blocking.get()) {
                crate::throw("park called on an M outside any goroutine");
            }
            park_thread(commit);
        }
    }
}

fn park_g(g: &GRef, reason: WaitReason, commit: impl FnOnce()) {
    g.set_wait_reason(reason);
    if sched::runtime().settings.debug.traceback {
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        *g.park_trace.lock().unwrap_or_else(|e| e.into_inner()) = Some(bt);
    }
    let mut commit = Some(commit);
    let mut run = || {
        if let Some(c) = commit.take() {
            c();
        }
    };
    coro::suspend(g, Switch::Park(coro::commit(&mut run)));
}

/// A handle that makes a parked goroutine or thread runnable again.
///
/// Cheap to clone and to send. Unparking something that is not parked
/// leaves a token: its next [`park`] returns at once.
#[derive(Clone)]
pub struct Unparker(Target);

#[derive(Clone)]
enum Target {
    G(GRef),
    Thread(Arc<ThreadParker>),
}

/// The [`Unparker`] for the current goroutine, or the current thread.
///
/// ```
/// let u = weft::runtime::park::unparker();
/// u.unpark(); // leaves a token
/// weft::runtime::park::park(weft::WaitReason::Park, || {}); // returns at once
/// ```
pub fn unparker() -> Unparker {
    match sched::current_g() {
        Some(g) => Unparker(Target::G(g)),
        None => Unparker(Target::Thread(THREAD_PARKER.with(|p| p.clone()))),
    }
}

impl Unparker {
    /// Makes the goroutine or thread runnable again (Go's `goready`). A
    /// readied goroutine goes to the waker's P's `runnext`, so a handoff
    /// between two goroutines runs the receiver next on the same P.
    pub fn unpark(&self) {
        match &self.0 {
            Target::G(g) => unpark_g(g),
            Target::Thread(t) => t.unpark(),
        }
    }

    /// Whether this handle wakes the same goroutine or thread as `other`.
    pub fn same(&self, other: &Unparker) -> bool {
        match (&self.0, &other.0) {
            (Target::G(a), Target::G(b)) => Arc::ptr_eq(a, b),
            (Target::Thread(a), Target::Thread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Whether this handle wakes a goroutine (not a plain thread).
    pub fn is_goroutine(&self) -> bool {
        matches!(self.0, Target::G(_))
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Target::G(g) => write!(f, "Unparker(goroutine {})", g.id),
            Target::Thread(t) => write!(f, "Unparker(thread {:?})", t.thread.id()),
        }
    }
}

fn unpark_g(g: &GRef) {
    let mut cur = g.park.load(Ordering::Acquire);
    loop {
        let next = match cur {
            PARK_PARKED => PARK_EMPTY,
            PARK_EMPTY => PARK_NOTIFIED,
            _ => return, // a token is already there
        };
        match g
            .park
            .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => break,
            Err(now) => cur = now,
        }
    }
    if sched::with_p(|p| PCounters::bump(&p.p.counters.unparks, 1)).is_none() {
        let rt = sched::runtime();
        rt.unparks_outside.fetch_add(1, Ordering::Relaxed);
    }
    if cur == PARK_PARKED {
        sched::ready(g.clone());
    }
}

/// How a plain OS thread parks: std's park/unpark plus our own token, so a
/// stray `std::thread::unpark` from elsewhere cannot confuse us.
struct ThreadParker {
    notified: AtomicBool,
    /// Counted in [`THREADS_PARKED`]; cleared (and uncounted) by whichever of
    /// the waker and the parker gets there first.
    counted: AtomicBool,
    thread: Thread,
}

/// Plain threads parked in weft with no wake-up pending (the deadlock
/// detector counts them as asleep), and parks of plain threads so far.
static THREADS_PARKED: AtomicUsize = AtomicUsize::new(0);
static THREAD_PARKS: AtomicU64 = AtomicU64::new(0);

/// (threads parked with no wake-up pending, thread parks ever).
pub(crate) fn threads_parked() -> (usize, u64) {
    (
        THREADS_PARKED.load(Ordering::SeqCst),
        THREAD_PARKS.load(Ordering::SeqCst),
    )
}

impl ThreadParker {
    fn unpark(&self) {
        if !self.notified.swap(true, Ordering::SeqCst) {
            self.uncount();
            self.thread.unpark();
        }
    }

    fn uncount(&self) {
        if self.counted.swap(false, Ordering::SeqCst) {
            THREADS_PARKED.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

thread_local! {
    static THREAD_PARKER: Arc<ThreadParker> = Arc::new(ThreadParker {
        notified: AtomicBool::new(false),
        counted: AtomicBool::new(false),
        thread: thread::current(),
    });
}

fn park_thread(commit: impl FnOnce()) {
    let me = THREAD_PARKER.with(|p| p.clone());
    commit();
    THREAD_PARKS.fetch_add(1, Ordering::SeqCst);
    if !me.notified.load(Ordering::SeqCst) {
        me.counted.store(true, Ordering::SeqCst);
        THREADS_PARKED.fetch_add(1, Ordering::SeqCst);
        if me.notified.load(Ordering::SeqCst) {
            me.uncount();
        } else if sched::started() {
            // Perhaps the last thing that could run: let sysmon look.
            sched::sysmon::wake(sched::runtime());
        }
    }
    while !me.notified.swap(false, Ordering::SeqCst) {
        thread::park();
    }
    me.uncount();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn thread_token_is_not_lost() {
        let u = unparker();
        u.unpark();
        park(WaitReason::Park, || {});
    }

    #[test]
    fn thread_wakes_thread_with_commit_ordering() {
        let state = Arc::new(Mutex::new((false, None::<Unparker>)));
        let s = state.clone();
        let t = thread::spawn(move || loop {
            let mut st = s.lock().unwrap();
            if let Some(u) = st.1.take() {
                st.0 = true;
                drop(st);
                u.unpark();
                return;
            }
            drop(st);
            thread::yield_now();
        });
        let guard = state.lock().unwrap();
        let mut guard = Some(guard);
        guard.as_mut().unwrap().1 = Some(unparker());
        park(WaitReason::Park, move || drop(guard.take()));
        loop {
            if state.lock().unwrap().0 {
                break;
            }
            park(WaitReason::Park, || {});
        }
        t.join().unwrap();
    }
}
