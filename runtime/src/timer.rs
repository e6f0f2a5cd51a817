//! The timer core: a heap of deadlines with callbacks, run by the Ms.
//!
//! Owns: every pending timer (one 4-ary min-heap ordered by deadline),
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
//! Two kinds of entry: a callback timer ([`add`], a `TimerId` to
//! [`cancel`] it) and a runtime wake-up ([`add_wake`]: `time::sleep`, a
//! function pointer and its argument, never cancelled, nothing allocated).
//!
//! Cancelling leaves a tombstone (Go's zombie timers): [`cancel`] marks the
//! timer and counts it; tombstones at the top are popped at once and the
//! heap is swept when they are a quarter of it, so a sift never touches a
//! timer record (no cache miss per level), memory stays bounded, and
//! [`pending`] counts live timers exactly — a `select!` loop over
//! `after(long)` has one timer pending, not one per iteration.
//!
//! State word (`TimerInner::state`), changed only under the heap lock:
//! `PENDING` (in the heap) → `FIRED` (popped by [`run_due`], its callback
//! runs once the lock is released) or → `CANCELLED` (marked by [`cancel`],
//! its callback dropped unrun, the entry a tombstone). Both transitions
//! happen under the one lock, so exactly one of "fires" and "is cancelled"
//! happens, and `cancel` returning `false` means the callback runs (or ran).
//!
//! Design choice: one heap behind a mutex, not Go's per-P heaps. On the 2–8
//! cores this runtime is measured on the lock is held for a heap push or a
//! batch of pops (tens of ns each); per-P heaps with stealing would be the
//! next step if profiles show the lock.
//!
//! Callbacks should be short (they typically unpark a goroutine or try-send
//! on a channel): they run in the scheduler, on an M. One that takes long,
//! blocks or parks holds that M as a `blocking()` call would (its P goes to
//! another M meanwhile: `sched::worker::fire_timers`); one that panics is
//! reported and dropped.
//!
//! Must never: run or drop a callback while holding the heap lock (a
//! callback may add a timer, and dropping one may drop channel handles), or
//! run a callback twice.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::loom::sync::{StdMutex, StdMutexGuard};

/// No timer pending.
const NONE: u64 = u64::MAX;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// Heap entries a firing pass pops under one lock acquisition.
const BATCH: usize = 32;

type Callback = Box<dyn FnOnce() + Send + 'static>;

struct TimerInner {
    /// `PENDING`, `FIRED` or `CANCELLED`; written under the heap lock.
    state: AtomicU8,
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

/// A wake-up the runtime itself arms and never cancels
/// ([`add_wake`]: `time::sleep`): a function and its argument, no
/// allocation and no state word.
#[derive(Clone, Copy)]
pub(crate) struct Wake {
    pub(crate) f: unsafe fn(*const ()),
    pub(crate) arg: *const (),
}

// SAFETY: `add_wake`'s caller promises that `f(arg)` may run on any thread
// (the argument is a `Sync` record kept alive until `f` ran).
unsafe impl Send for Wake {}

/// What a heap entry does when it comes due.
enum Fire {
    Callback(Arc<TimerInner>),
    Wake(Wake),
}

struct Entry {
    when: u64,
    seq: u64,
    fire: Fire,
}

impl Entry {
    fn before(&self, o: &Entry) -> bool {
        (self.when, self.seq) < (o.when, o.seq)
    }

    fn cancelled(&self) -> bool {
        match &self.fire {
            Fire::Callback(t) => t.state.load(Ordering::Relaxed) == CANCELLED,
            Fire::Wake(_) => false,
        }
    }
}

/// A 4-ary min-heap of entries (Go's timer heap shape: half the levels of
/// a binary heap, and a node's children share a cache line or two).
///
/// Cancelling does not search the heap: [`cancel`] marks the timer and
/// counts it in `cancelled`; cancelled entries are dropped when they reach
/// the top, and the whole heap is swept once they are a quarter of it (Go's
/// zombie timers). So a sift touches only the entries array, never the
/// timers themselves, and a stopped timer's memory stays bounded.
#[derive(Default)]
struct Heap {
    entries: Vec<Entry>,
    /// Entries whose timer was cancelled but are still in `entries`.
    cancelled: usize,
}

impl Heap {
    /// Timers that will fire: entries less the cancelled ones.
    fn live(&self) -> usize {
        self.entries.len() - self.cancelled
    }

    fn earliest(&self) -> u64 {
        self.entries.first().map_or(NONE, |e| e.when)
    }

    fn push(&mut self, e: Entry) {
        self.entries.push(e);
        self.sift_up(self.entries.len() - 1);
    }

    /// Removes and returns the earliest entry.
    fn pop(&mut self) -> Option<Entry> {
        if self.entries.is_empty() {
            return None;
        }
        let e = self.entries.swap_remove(0);
        if !self.entries.is_empty() {
            self.sift_down(0);
        }
        Some(e)
    }

    /// Drops cancelled entries from the top, and sweeps the whole heap when
    /// they are a quarter of it.
    fn tidy(&mut self) {
        while self.entries.first().is_some_and(Entry::cancelled) {
            self.pop();
            self.cancelled -= 1;
        }
        if self.cancelled > 0 && self.cancelled * 4 >= self.entries.len() {
            self.entries.retain(|e| !e.cancelled());
            self.cancelled = 0;
            for i in (0..self.entries.len().div_ceil(4)).rev() {
                self.sift_down(i);
            }
            // After a burst (10,000 timers stopped), give the memory back.
            let cap = self.entries.capacity();
            if cap > 1024 && self.entries.len() < cap / 4 {
                self.entries.shrink_to(cap / 2);
            }
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 4;
            if !self.entries[i].before(&self.entries[parent]) {
                break;
            }
            self.entries.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.entries.len();
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut min = first;
            for c in first + 1..(first + 4).min(n) {
                if self.entries[c].before(&self.entries[min]) {
                    min = c;
                }
            }
            if !self.entries[min].before(&self.entries[i]) {
                break;
            }
            self.entries.swap(i, min);
            i = min;
        }
    }
}

/// The heap's lock, ranked (lockrank: checked in debug builds).
type HeapLock = crate::lockrank::Mutex<Heap, { crate::lockrank::rank::TIMER_HEAP }>;

struct Timers {
    heap: HeapLock,
    /// The earliest deadline in `heap` (nanoseconds since [`epoch`]), or
    /// `NONE`. Written under the heap lock; read without it.
    next: AtomicU64,
    /// Timers ever added; also the tie-breaker between equal deadlines, so
    /// timers with one deadline fire in the order they were added.
    seq: AtomicU64,
    /// `heap.live()`, readable without the lock. Written under it.
    pending: AtomicUsize,
}

fn timers() -> &'static Timers {
    static TIMERS: OnceLock<Timers> = OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        heap: HeapLock::new(Heap::default()),
        next: AtomicU64::new(NONE),
        seq: AtomicU64::new(0),
        pending: AtomicUsize::new(0),
    })
}

impl Timers {
    fn lock(&self) -> crate::lockrank::MutexGuard<'_, Heap> {
        self.heap.lock()
    }

    /// Publishes the heap's earliest deadline and live count after a change.
    fn publish(&self, heap: &Heap) {
        self.next.store(heap.earliest(), Ordering::SeqCst);
        self.pending.store(heap.live(), Ordering::SeqCst);
    }

    /// Queues `fire` at `when`; tells an M when it is the new earliest.
    fn add(&self, when: Instant, fire: Fire) {
        let rt = crate::sched::runtime();
        let when = to_nanos(when);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let earlier = {
            let mut heap = self.lock();
            let earlier = when < heap.earliest();
            heap.push(Entry { when, seq, fire });
            self.publish(&heap);
            earlier
        };
        if earlier {
            crate::sched::idle::timers_changed(rt);
        }
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
/// passed). `f` runs in the scheduler, on an M, outside any goroutine: it
/// should be short. One that blocks or parks holds its M as a
/// [`crate::blocking`] call would (the rest of the program runs on); one
/// that panics is reported and dropped. To run something long, spawn a
/// goroutine from `f` (as `weft::time::after_func` does).
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
    let timer = Arc::new(TimerInner {
        state: AtomicU8::new(PENDING),
        f: StdMutex::new(Some(Box::new(f))),
    });
    timers().add(when, Fire::Callback(timer.clone()));
    TimerId(timer)
}

/// Runs `wake.f(wake.arg)` at `when`, like [`add`] but with nothing
/// allocated and nothing to cancel: `time::sleep`'s timer.
///
/// # Safety
///
/// `wake.f(wake.arg)` must be sound to call once, from any thread, at any
/// time until it has been called (the caller keeps `arg` alive until then).
pub(crate) unsafe fn add_wake(when: Instant, wake: Wake) {
    timers().add(when, Fire::Wake(wake));
}

/// Stops a timer. Returns `true` if it was pending: it will not fire and
/// its callback is dropped unrun. `false` if it already fired (its callback
/// runs or ran) or was cancelled before.
pub fn cancel(id: &TimerId) -> bool {
    let inner = &id.0;
    let t = timers();
    {
        let mut heap = t.lock();
        if inner.state.load(Ordering::Relaxed) != PENDING {
            return false;
        }
        inner.state.store(CANCELLED, Ordering::Relaxed);
        heap.cancelled += 1;
        heap.tidy();
        t.publish(&heap);
    }
    // Drop the callback now, outside the heap lock (it may hold channel
    // handles whose drop wakes goroutines).
    drop(lock(&inner.f).take());
    true
}

/// Number of timers that will fire: added, neither fired nor cancelled.
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

/// Whether some timer is due: one atomic load, plus a clock read when a
/// timer is queued.
#[inline]
pub(crate) fn due() -> bool {
    let next = timers().next.load(Ordering::SeqCst);
    next != NONE && now_nanos() >= next
}

/// Fires every due timer. Cheap when none is due: one atomic load, plus a
/// clock read when some timer is pending. Returns how many fired.
///
/// Pops up to [`BATCH`] due entries per acquisition of the heap lock and
/// fires them after releasing it.
///
/// Called by Ms in the scheduler loop, never inside a goroutine. A callback
/// that panics is reported (by the panic hook, as a thread's panic is) and
/// dropped; the other timers fire on.
///
/// A batch holding user callbacks ([`after`]'s) runs inside `section`,
/// which the M makes a blocking section: a callback may block or take
/// long. A batch of wake-ups only (`add_wake`: `sleep`, socket deadlines,
/// the runtime's own, each a few instructions that cannot block) runs
/// directly: marking it as a call in flight let sysmon retake the P of an
/// M it caught there and start another M for it (`timer_cost` grew to 68
/// Ms; the echo benchmark's 2 ms thread sampler added threads).
pub(crate) fn run_due(section: &dyn Fn(&mut dyn FnMut())) -> usize {
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
    let mut batch: [Option<Fire>; BATCH] = std::array::from_fn(|_| None);
    loop {
        let mut n = 0;
        {
            let mut heap = t.lock();
            while n < BATCH && heap.earliest() <= now {
                let Some(e) = heap.pop() else { break };
                if let Fire::Callback(timer) = &e.fire {
                    if timer.state.load(Ordering::Relaxed) == CANCELLED {
                        heap.cancelled -= 1;
                        continue;
                    }
                    // PENDING → FIRED under the lock: `cancel` now returns
                    // false, and the callback below runs.
                    timer.state.store(FIRED, Ordering::Relaxed);
                }
                batch[n] = Some(e.fire);
                n += 1;
            }
            heap.tidy();
            t.publish(&heap);
        }
        let _span = (n > 0).then(crate::trace::timer_fire); // trace: a slice while they run
        let callbacks = batch[..n]
            .iter()
            .any(|f| matches!(f, Some(Fire::Callback(_))));
        let mut fire_batch = || {
            for slot in &mut batch[..n] {
                match slot.take() {
                    Some(Fire::Callback(timer)) => {
                        let f = lock(&timer.f).take();
                        if let Some(f) = f {
                            // The panic hook has printed the message; the
                            // payload has no one to go to.
                            if let Err(p) = panic::catch_unwind(AssertUnwindSafe(f)) {
                                drop_payload(p);
                            }
                        }
                    }
                    // SAFETY: `add_wake`'s contract: callable once, anywhere,
                    // until called; the entry was popped, so this is the once.
                    Some(Fire::Wake(w)) => unsafe { (w.f)(w.arg) },
                    None => {}
                }
            }
        };
        if callbacks {
            section(&mut fire_batch);
        } else {
            fire_batch();
        }
        fired += n;
        if n < BATCH {
            return fired;
        }
    }
}

/// Drops a callback's panic payload. Its `Drop` is user code too: a panic
/// there is reported by the hook like the first, and its own payload is
/// leaked (dropping it could panic again), so nothing unwinds into the
/// scheduler.
#[cold]
fn drop_payload(p: Box<dyn Any + Send>) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(p))) {
        std::mem::forget(again);
    }
}

fn lock<T>(m: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    m.lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(when: u64, seq: u64) -> (Entry, Arc<TimerInner>) {
        let timer = Arc::new(TimerInner {
            state: AtomicU8::new(PENDING),
            f: StdMutex::new(None),
        });
        let e = Entry {
            when,
            seq,
            fire: Fire::Callback(timer.clone()),
        };
        (e, timer)
    }

    fn check(h: &Heap) {
        for i in 1..h.entries.len() {
            assert!(
                !h.entries[i].before(&h.entries[(i - 1) / 4]),
                "heap order at {i}"
            );
        }
        let cancelled = h.entries.iter().filter(|e| e.cancelled()).count();
        assert_eq!(cancelled, h.cancelled, "cancelled count");
    }

    #[test]
    fn heap_pops_in_order_and_sweeps_cancelled_entries() {
        let mut h = Heap::default();
        let mut timers = Vec::new();
        // A scrambled insertion order, with repeated deadlines.
        for seq in 0..500u64 {
            let (e, t) = entry((seq * 7919) % 97, seq);
            timers.push(t);
            h.push(e);
            check(&h);
        }
        // Cancel every third timer as `cancel` does: mark, count, tidy.
        let mut swept = false;
        for t in timers.iter().step_by(3) {
            t.state.store(CANCELLED, Ordering::Relaxed);
            h.cancelled += 1;
            let before = h.entries.len();
            h.tidy();
            swept |= h.entries.len() + 1 < before;
            check(&h);
            assert!(
                h.cancelled * 4 < h.entries.len().max(1),
                "swept at a quarter"
            );
        }
        assert!(swept, "a quarter cancelled sweeps the heap");
        assert_eq!(h.live(), 500 - 167);
        let mut last = (0, 0);
        let mut live = 0;
        while let Some(e) = h.pop() {
            assert!((e.when, e.seq) >= last);
            last = (e.when, e.seq);
            if !e.cancelled() {
                live += 1;
            }
        }
        assert_eq!(live, 500 - 167);
        assert_eq!(h.earliest(), NONE);
    }
}
