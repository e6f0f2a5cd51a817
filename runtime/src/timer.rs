//! The timer core: a heap of deadlines with callbacks, run by the Ms.
//!
//! Owns: every pending timer (one min-heap ordered by deadline), the cached
//! earliest deadline that Ms check on each pass through the scheduler, and
//! firing: a due timer's callback runs on an M, outside any goroutine.
//!
//! Who fires timers (see `docs/timers.md`):
//! - a busy M checks the cached earliest deadline every time it looks for
//!   work (`sched::worker`), one atomic load when no timer is pending;
//! - an idle M holds the *timer role* and sleeps on its condvar only until
//!   the earliest deadline (`sched::idle::stopm`); [`add`]ing an earlier
//!   timer wakes it to sleep less. No M ever polls.
//!
//! Design choice: one heap behind a mutex, not Go's per-P heaps. On the 2–8
//! cores this runtime is measured on the lock is held for a heap push or pop
//! (tens of ns) and is rarely contended; per-P heaps with stealing would be
//! the next step if profiles show the lock.
//!
//! Callbacks must be short and must not block or park (they typically
//! unpark a goroutine or try-send on a channel): they run in the scheduler.
//!
//! Must never: run a callback while holding the heap lock (a callback may
//! add a timer), or run a callback twice.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::loom::sync::{StdMutex, StdMutexGuard};
use std::time::{Duration, Instant};

/// No timer pending.
const NONE: u64 = u64::MAX;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

type Callback = Box<dyn FnOnce() + Send + 'static>;

struct TimerInner {
    state: AtomicU8,
    f: StdMutex<Option<Callback>>,
}

/// A pending timer; [`cancel`] it to stop it firing.
///
/// ```
/// use std::time::{Duration, Instant};
/// let id = weft::runtime::timer::add(Instant::now() + Duration::from_secs(60), || {});
/// assert!(weft::runtime::timer::cancel(&id));
/// assert!(!weft::runtime::timer::cancel(&id));
/// ```
#[derive(Clone)]
pub struct TimerId(Arc<TimerInner>);

impl fmt::Debug for TimerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = match self.0.state.load(Ordering::Relaxed) {
            PENDING => "pending",
            FIRED => "fired",
            _ => "cancelled",
        };
        write!(f, "TimerId({st})")
    }
}

struct Entry {
    when: u64,
    seq: u64,
    timer: Arc<TimerInner>,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.when, self.seq) == (o.when, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed, so `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, o: &Self) -> CmpOrdering {
        (o.when, o.seq).cmp(&(self.when, self.seq))
    }
}

struct Timers {
    heap: StdMutex<BinaryHeap<Entry>>,
    /// The earliest deadline in `heap` (nanoseconds since [`epoch`]), or
    /// `NONE`. Written under the heap lock; read without it.
    next: AtomicU64,
    seq: AtomicU64,
    /// Timers added and neither fired nor cancelled.
    pending: AtomicUsize,
    /// Cancelled entries still in the heap (removed lazily).
    cancelled: AtomicUsize,
}

fn timers() -> &'static Timers {
    static TIMERS: OnceLock<Timers> = OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        heap: StdMutex::new(BinaryHeap::new()),
        next: AtomicU64::new(NONE),
        seq: AtomicU64::new(0),
        pending: AtomicUsize::new(0),
        cancelled: AtomicUsize::new(0),
    })
}

/// The instant timer deadlines are measured from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn to_nanos(t: Instant) -> u64 {
    t.saturating_duration_since(epoch())
        .as_nanos()
        .min(NONE as u128 - 1) as u64
}

fn now_nanos() -> u64 {
    to_nanos(Instant::now())
}

/// Runs `f` at `when` (at once, on the next pass of an M, if `when` has
/// passed). `f` runs in the scheduler, outside any goroutine: it must be
/// short and must not block or park.
///
/// ```
/// use std::sync::mpsc;
/// use std::time::{Duration, Instant};
/// let (tx, rx) = mpsc::channel();
/// weft::runtime::timer::add(Instant::now() + Duration::from_millis(5), move || {
///     tx.send("fired").unwrap();
/// });
/// assert_eq!(rx.recv().unwrap(), "fired");
/// ```
pub fn add(when: Instant, f: impl FnOnce() + Send + 'static) -> TimerId {
    let rt = crate::sched::runtime();
    let t = timers();
    let timer = Arc::new(TimerInner {
        state: AtomicU8::new(PENDING),
        f: StdMutex::new(Some(Box::new(f))),
    });
    let when = to_nanos(when);
    let seq = t.seq.fetch_add(1, Ordering::Relaxed);
    t.pending.fetch_add(1, Ordering::SeqCst);
    let earlier = {
        let mut heap = lock(&t.heap);
        compact(t, &mut heap);
        heap.push(Entry {
            when,
            seq,
            timer: timer.clone(),
        });
        let earlier = when < t.next.load(Ordering::Relaxed);
        if earlier {
            t.next.store(when, Ordering::SeqCst);
        }
        earlier
    };
    if earlier {
        crate::sched::idle::timers_changed(rt);
    }
    TimerId(timer)
}

/// Stops a timer. Returns `true` if it was pending (it will now never run),
/// `false` if it already fired or was cancelled.
pub fn cancel(id: &TimerId) -> bool {
    let inner = &id.0;
    if inner
        .state
        .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return false;
    }
    let t = timers();
    t.pending.fetch_sub(1, Ordering::SeqCst);
    t.cancelled.fetch_add(1, Ordering::Relaxed);
    // Drop the callback now (it may hold channel handles); the heap entry
    // goes when it reaches the top or at the next compaction.
    drop(lock(&inner.f).take());
    true
}

/// Number of timers that are neither fired nor cancelled.
pub(crate) fn pending() -> usize {
    timers().pending.load(Ordering::SeqCst)
}

/// Timers ever added (for the deadlock detector's activity fingerprint).
pub(crate) fn added() -> u64 {
    timers().seq.load(Ordering::Relaxed)
}

/// The earliest deadline, if any timer is queued (it may be cancelled).
pub(crate) fn next_deadline() -> Option<Instant> {
    match timers().next.load(Ordering::SeqCst) {
        NONE => None,
        n => Some(epoch() + Duration::from_nanos(n)),
    }
}

/// Fires every due timer. Cheap when none is due: one atomic load, plus a
/// clock read when some timer is queued. Returns how many fired.
///
/// Called by Ms in the scheduler loop, never inside a goroutine.
pub(crate) fn run_due() -> usize {
    let t = timers();
    let next = t.next.load(Ordering::SeqCst);
    if next == NONE {
        return 0;
    }
    let now = now_nanos();
    if now < next {
        return 0;
    }
    let mut fired = 0;
    loop {
        let due = {
            let mut heap = lock(&t.heap);
            let due = match heap.peek() {
                Some(e) if e.when <= now => heap.pop(),
                _ => None,
            };
            let next = heap.peek().map_or(NONE, |e| e.when);
            t.next.store(next, Ordering::SeqCst);
            due
        };
        let Some(e) = due else { break };
        if e.timer
            .state
            .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            dec_cancelled(t, 1);
            continue; // cancelled
        }
        t.pending.fetch_sub(1, Ordering::SeqCst);
        let f = lock(&e.timer.f).take();
        if let Some(f) = f {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
                crate::throw("a timer callback panicked");
            }
            fired += 1;
        }
    }
    fired
}

/// Drops cancelled entries when they make up most of a large heap (a
/// `Timer::reset` loop would otherwise grow it without bound).
fn compact(t: &Timers, heap: &mut BinaryHeap<Entry>) {
    let cancelled = t.cancelled.load(Ordering::Relaxed);
    if heap.len() >= 1024 && cancelled * 2 > heap.len() {
        let before = heap.len();
        heap.retain(|e| e.timer.state.load(Ordering::Acquire) == PENDING);
        dec_cancelled(t, before - heap.len());
        let next = heap.peek().map_or(NONE, |e| e.when);
        t.next.store(next, Ordering::SeqCst);
    }
}

/// `cancel` counts after its CAS, so a sweep may see the entry first.
fn dec_cancelled(t: &Timers, n: usize) {
    let _ = t
        .cancelled
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
            Some(c.saturating_sub(n))
        });
}

fn lock<T>(m: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    m.lock()
}
