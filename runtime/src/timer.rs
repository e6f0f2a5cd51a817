//! The timer core: a heap of deadlines with callbacks, run by the Ms.
//!
//! Owns: every pending timer (one indexed min-heap ordered by deadline),
//! the cached earliest deadline that Ms check on each pass through the
//! scheduler, and firing: a due timer's callback runs on an M, outside any
//! goroutine. `docs/timers.md` states the semantics built on it.
//!
//! Who fires timers (see `docs/timers.md`, "Who fires a timer"):
//! - a busy M checks the cached earliest deadline every time it looks for
//!   work (`sched::worker`), one atomic load when no timer is pending;
//! - an idle M holds the *timer role* and sleeps on its condvar only until
//!   the earliest deadline (`sched::idle::stopm`); [`add`]ing an earlier
//!   timer wakes it to sleep less. No M ever polls;
//! - sysmon fires timers that are overdue because every M is busy.
//!
//! The heap is *indexed*: each timer knows its slot, so [`cancel`] takes it
//! out at once (O(log n)) rather than leaving a tombstone. A stopped or
//! unreachable timer therefore costs nothing after `cancel` returns, and
//! [`pending`] is exactly the heap's length — a `select!` loop over
//! `after(long)` keeps one timer pending, not one per iteration.
//!
//! State word (`TimerInner::state`), changed only under the heap lock:
//! `PENDING` (in the heap, at `index`) → `FIRED` (popped by [`run_due`],
//! its callback runs once the lock is released) or → `CANCELLED` (removed
//! by [`cancel`], its callback dropped unrun). Both transitions happen under
//! the one lock, so exactly one of "fires" and "is cancelled" happens, and
//! `cancel` returning `false` means the callback runs (or ran).
//!
//! Design choice: one heap behind a mutex, not Go's per-P heaps. On the 2–8
//! cores this runtime is measured on the lock is held for a heap push or pop
//! (tens of ns) and is rarely contended; per-P heaps with stealing would be
//! the next step if profiles show the lock.
//!
//! Callbacks must be short and must not block or park (they typically
//! unpark a goroutine or try-send on a channel): they run in the scheduler.
//!
//! Must never: run or drop a callback while holding the heap lock (a
//! callback may add a timer, and dropping one may drop channel handles), or
//! run a callback twice.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::loom::sync::{StdMutex, StdMutexGuard};

/// No timer pending.
const NONE: u64 = u64::MAX;

/// `TimerInner::index` of a timer that is not in the heap.
const NOT_QUEUED: usize = usize::MAX;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

type Callback = Box<dyn FnOnce() + Send + 'static>;

struct TimerInner {
    /// `PENDING`, `FIRED` or `CANCELLED`; written under the heap lock.
    state: AtomicU8,
    /// The timer's slot in the heap while `PENDING`, else `NOT_QUEUED`.
    /// Read and written under the heap lock only (an atomic so that no
    /// `unsafe` is needed; `Relaxed` suffices, the lock orders it).
    index: AtomicUsize,
    /// The callback until it runs or is dropped; taken after the state
    /// left `PENDING`, outside the heap lock.
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

impl Entry {
    fn before(&self, o: &Entry) -> bool {
        (self.when, self.seq) < (o.when, o.seq)
    }
}

/// A binary min-heap whose entries record their own index in their timer,
/// so any entry can be removed in O(log n). Lives behind `Timers::heap`.
#[derive(Default)]
struct Heap {
    entries: Vec<Entry>,
}

impl Heap {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn earliest(&self) -> u64 {
        self.entries.first().map_or(NONE, |e| e.when)
    }

    fn push(&mut self, e: Entry) {
        self.entries.push(e);
        let i = self.entries.len() - 1;
        self.sift_up(i);
    }

    /// Removes and returns the entry at `i`.
    fn remove(&mut self, i: usize) -> Entry {
        let last = self.entries.len() - 1;
        self.entries.swap(i, last);
        let e = self.entries.pop().expect("remove from a non-empty heap");
        e.timer.index.store(NOT_QUEUED, Ordering::Relaxed);
        if i < self.entries.len() {
            self.place(i);
            // The moved entry may belong above or below its new slot.
            let i = self.sift_up(i);
            self.sift_down(i);
        }
        // After a burst (10,000 timers stopped), give the memory back.
        let cap = self.entries.capacity();
        if cap > 1024 && self.entries.len() < cap / 4 {
            self.entries.shrink_to(cap / 2);
        }
        e
    }

    /// Records that the entry at `i` lives at `i`.
    fn place(&self, i: usize) {
        self.entries[i].timer.index.store(i, Ordering::Relaxed);
    }

    fn sift_up(&mut self, mut i: usize) -> usize {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.entries[i].before(&self.entries[parent]) {
                break;
            }
            self.entries.swap(i, parent);
            self.place(i);
            i = parent;
        }
        self.place(i);
        i
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.entries.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut min = i;
            if l < n && self.entries[l].before(&self.entries[min]) {
                min = l;
            }
            if r < n && self.entries[r].before(&self.entries[min]) {
                min = r;
            }
            if min == i {
                break;
            }
            self.entries.swap(i, min);
            self.place(i);
            i = min;
        }
        self.place(i);
    }
}

struct Timers {
    heap: StdMutex<Heap>,
    /// The earliest deadline in `heap` (nanoseconds since [`epoch`]), or
    /// `NONE`. Written under the heap lock; read without it.
    next: AtomicU64,
    /// Timers ever added; also the tie-breaker between equal deadlines, so
    /// timers with one deadline fire in the order they were added.
    seq: AtomicU64,
    /// `heap.len()`, readable without the lock. Written under it.
    pending: AtomicUsize,
}

fn timers() -> &'static Timers {
    static TIMERS: OnceLock<Timers> = OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        heap: StdMutex::new(Heap::default()),
        next: AtomicU64::new(NONE),
        seq: AtomicU64::new(0),
        pending: AtomicUsize::new(0),
    })
}

impl Timers {
    fn lock(&self) -> StdMutexGuard<'_, Heap> {
        lock(&self.heap)
    }

    /// Publishes the heap's earliest deadline and length after a change.
    fn publish(&self, heap: &Heap) {
        self.next.store(heap.earliest(), Ordering::SeqCst);
        self.pending.store(heap.len(), Ordering::SeqCst);
    }
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

/// The instant `d` from now; a duration too large to represent (Go's
/// `time.Sleep(1<<63 - 1)`, Rust's `Duration::MAX`) gives an instant a
/// century away — about as good as never — rather than an overflow panic.
///
/// ```
/// use std::time::{Duration, Instant};
/// let far = weft::runtime::timer::deadline_after(Duration::MAX);
/// assert!(far > Instant::now() + Duration::from_secs(50 * 365 * 24 * 3600));
/// ```
pub fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
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
        index: AtomicUsize::new(NOT_QUEUED),
        f: StdMutex::new(Some(Box::new(f))),
    });
    let when = to_nanos(when);
    let seq = t.seq.fetch_add(1, Ordering::Relaxed);
    let earlier = {
        let mut heap = t.lock();
        let earlier = when < heap.earliest();
        heap.push(Entry {
            when,
            seq,
            timer: timer.clone(),
        });
        t.publish(&heap);
        earlier
    };
    if earlier {
        crate::sched::idle::timers_changed(rt);
    }
    TimerId(timer)
}

/// Stops a timer. Returns `true` if it was pending: it is out of the heap
/// and its callback is dropped unrun. `false` if it already fired (its
/// callback runs or ran) or was cancelled before.
pub fn cancel(id: &TimerId) -> bool {
    let inner = &id.0;
    let t = timers();
    {
        let mut heap = t.lock();
        if inner.state.load(Ordering::Relaxed) != PENDING {
            return false;
        }
        inner.state.store(CANCELLED, Ordering::Relaxed);
        let i = inner.index.load(Ordering::Relaxed);
        if i >= heap.len() || !Arc::ptr_eq(&heap.entries[i].timer, inner) {
            crate::throw("timer: a pending timer is not where its index says");
        }
        drop(heap.remove(i));
        t.publish(&heap);
    }
    // Drop the callback now, outside the heap lock (it may hold channel
    // handles whose drop wakes goroutines).
    drop(lock(&inner.f).take());
    true
}

/// Number of timers in the heap: added, neither fired nor cancelled.
pub(crate) fn pending() -> usize {
    timers().pending.load(Ordering::SeqCst)
}

/// Timers ever added (for the deadlock detector's activity fingerprint).
pub(crate) fn added() -> u64 {
    timers().seq.load(Ordering::Relaxed)
}

/// The earliest deadline, if any timer is pending.
pub(crate) fn next_deadline() -> Option<Instant> {
    match timers().next.load(Ordering::SeqCst) {
        NONE => None,
        n => Some(epoch() + Duration::from_nanos(n)),
    }
}

/// Fires every due timer. Cheap when none is due: one atomic load, plus a
/// clock read when some timer is pending. Returns how many fired.
///
/// Called by Ms in the scheduler loop and by sysmon, never inside a
/// goroutine.
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
            let mut heap = t.lock();
            if heap.earliest() > now {
                break;
            }
            let e = heap.remove(0);
            // PENDING → FIRED under the lock: `cancel` now returns false,
            // and the callback below runs.
            e.timer.state.store(FIRED, Ordering::Relaxed);
            t.publish(&heap);
            e
        };
        let f = lock(&due.timer.f).take();
        if let Some(f) = f {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
                crate::throw("a timer callback panicked");
            }
            fired += 1;
        }
    }
    fired
}

fn lock<T>(m: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    m.lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(when: u64, seq: u64) -> Entry {
        Entry {
            when,
            seq,
            timer: Arc::new(TimerInner {
                state: AtomicU8::new(PENDING),
                index: AtomicUsize::new(NOT_QUEUED),
                f: StdMutex::new(None),
            }),
        }
    }

    fn check(h: &Heap) {
        for (i, e) in h.entries.iter().enumerate() {
            assert_eq!(e.timer.index.load(Ordering::Relaxed), i, "index of {i}");
            if i > 0 {
                assert!(!e.before(&h.entries[(i - 1) / 2]), "heap order at {i}");
            }
        }
    }

    #[test]
    fn indexed_heap_removes_anywhere_and_pops_in_order() {
        let mut h = Heap::default();
        let mut timers = Vec::new();
        // A scrambled insertion order, with repeated deadlines.
        for seq in 0..500u64 {
            let e = entry((seq * 7919) % 97, seq);
            timers.push(e.timer.clone());
            h.push(e);
            check(&h);
        }
        // Remove every third timer by the index it records.
        for t in timers.iter().step_by(3) {
            let i = t.index.load(Ordering::Relaxed);
            let e = h.remove(i);
            assert!(Arc::ptr_eq(&e.timer, t));
            assert_eq!(t.index.load(Ordering::Relaxed), NOT_QUEUED);
            check(&h);
        }
        let mut last = (0, 0);
        while h.len() > 0 {
            let e = h.remove(0);
            assert!((e.when, e.seq) >= last);
            last = (e.when, e.seq);
            check(&h);
        }
        assert_eq!(h.earliest(), NONE);
    }
}
