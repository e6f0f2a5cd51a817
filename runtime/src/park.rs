//! The parking primitive: the one way anything in weft blocks, and the one
//! wait record everything that blocks leaves behind.
//!
//! Owns: [`park`] (suspend the current goroutine, or park the current plain
//! thread), [`Waiter`] (the record of one blocking operation: Go's `sudog`)
//! and [`Unparker`] (a public handle that makes a goroutine or thread
//! runnable again). Channels, `select!`, `sync`, timers, `join` and I/O are
//! all built on these.
//!
//! # The park handshake
//!
//! On the G's park word ([`crate::g::ParkWord`]), Go's `gopark`/`goready`
//! with a token, so no wake-up is ever lost:
//!
//! ```text
//!   parker (on the G's stack)        M, after the switch            waker (any thread)
//!   -------------------------        ------------------------       ------------------
//!   set wait reason
//!   suspend(Switch::Park(commit)) -> run commit (e.g. unlock)
//!                                    EMPTY -> PARKED                PARKED -> EMPTY: ready(g)
//!                                      ok: G is parked                or EMPTY -> NOTIFIED
//!                                      NOTIFIED: run it again         or NOTIFIED: nothing
//! ```
//!
//! Like `std::thread::park`, a park may return without a matching wake
//! (a token left by an earlier waker): callers re-check their condition.
//!
//! # Wait records
//!
//! A [`Waiter`] lives **on the waiting goroutine's stack** (it cannot move
//! while the goroutine is parked, and it costs no allocation). Queues (a
//! channel's, a mutex's) hold pointers to it. It wakes whoever made it —
//! the goroutine, or the OS thread — so only its maker may wait on it:
//! [`Waiter::wait`] checks, with the same look at the current goroutine
//! that parking takes anyway, and throws for anyone else. Its state word:
//!
//! ```text
//!   WAITING --try_claim(tag) / claim_exclusive(tag)--> CLAIMED(tag)
//!   CLAIMED(tag) --wake: unpark the waiter, THEN store--> DONE(tag)
//! ```
//!
//! Exactly one party claims a record (a CAS, or popping it under the
//! queue's lock); the claimer moves the value (if any) through pointers the
//! record's owner gave it, wakes the owner, and stores `DONE` as its very
//! last touch. The owner leaves [`Waiter::wait`] only on seeing `DONE`
//! (acquire), so the claimer never touches a record — or a goroutine —
//! that has moved on: that is what lets records live on stacks and
//! goroutine records be recycled without reference counts. A spurious
//! return from park that finds `CLAIMED` spins the few instructions until
//! `DONE`; one that finds `WAITING` parks again.
//!
//! Must never: resume a G from the waker's side while its M may still be
//! running its commit closure, lose a wake-up, let a claimer touch a
//! record after storing `DONE`, or park a record's waiter where the
//! record's wake-up does not go.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
// Counters are statics (std's: loom's atomics cannot be built in a const).
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize as StdAtomicUsize};
use std::sync::{Arc, Weak};

use crate::coro::Commit;
use crate::g::{self, GPtr, Release, Switch, WaitReason};
// The wait record's word and the thread parker are modelled under loom.
use crate::loom::hint::spin_loop;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::StdMutex;
use crate::loom::thread::{self, thread_local, Thread};
use crate::sched;

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
/// If `commit` panics, the goroutine does not park: the panic continues in
/// the caller of `park`, as it does on a plain thread, where `commit` runs
/// inline. (A `commit` that has already made a wait record visible to a
/// waker must therefore not panic afterwards.)
///
/// A goroutine that parks while a panic unwinds through it (a `Drop` that
/// receives, joins or locks) blocks its OS thread instead of switching, as
/// inside [`crate::blocking`]: std counts panics per OS thread, and the
/// next goroutine on that thread would otherwise see
/// `std::thread::panicking()` return `true`.
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
    park_as(None, reason, commit);
}

/// [`park`]; with `Some(owner)`, for the owner of a wait record that wakes
/// `owner`: throws unless `owner`'s wake-up reaches this park (see
/// [`Waiter::wait`]). One look at who runs here serves the check and the
/// park.
#[inline(always)]
fn park_as(owner: Option<Target>, reason: WaitReason, commit: impl FnOnce()) {
    match g::current() {
        Some(g) if !std::thread::panicking() => {
            if owner.is_some_and(|t| t != Target::G(g)) {
                not_the_owner(owner);
            }
            park_g(g, reason, commit);
        }
        Some(g) => {
            // The thread parks, and polls: a wake-up for the goroutine
            // leaves a token the poll finds; one for this thread wakes it.
            if owner.is_some_and(|t| t != Target::G(g) && t != Target::Thread(thread_parker_ptr()))
            {
                not_the_owner(owner);
            }
            park_unwinding(commit);
        }
        None => {
            if sched::on_m_outside_goroutine() {
                crate::throw("park called on an M outside any goroutine");
            }
            if owner.is_some_and(|t| t != Target::Thread(thread_parker_ptr())) {
                not_the_owner(owner);
            }
            park_thread(reason, commit, None);
        }
    }
}

/// A [`Waiter`] waited on where its wake-up cannot reach. A throw, not a
/// panic: the record may already be in a queue, where a claimer would
/// reach it after an unwind had freed it.
#[cold]
#[inline(never)]
fn not_the_owner(owner: Option<Target>) -> ! {
    let here = g::current();
    let maker = match (owner, here) {
        (Some(Target::G(_)), Some(_)) => "another goroutine",
        (Some(Target::G(_)), None) => "a goroutine",
        (_, Some(_)) => "a thread",
        (_, None) => "another thread",
    };
    let here = here.map_or("a thread".to_string(), |g| format!("goroutine {}", g.id()));
    crate::throw(&format!(
        "park::Waiter::wait called on {here}, but the Waiter was made on {maker}, the only \
         one its wake-up reaches (a goroutine inside blocking() counts as its thread): \
         make a Waiter where it is waited on"
    ))
}

fn park_g(g: GPtr, reason: WaitReason, commit: impl FnOnce()) {
    g.set_wait_reason(reason);
    if sched::debug().traceback {
        record_park_trace(g);
    }
    let mut commit = Some(commit);
    let mut panicked = None;
    let mut run = || {
        if let Some(c) = commit.take() {
            // The commit runs on the M, outside the goroutine: a panic must
            // not unwind into the scheduler. Leave ourselves a wake-up token
            // instead, so the M resumes us at once, and re-raise it here.
            if let Err(p) = panic::catch_unwind(AssertUnwindSafe(c)) {
                g.park.unpark();
                panicked = Some(p);
            }
        }
    };
    // SAFETY: `g` is the goroutine running on this stack (`g::current`).
    unsafe { g.coro.suspend(Switch::Park(Commit::new(&mut run))) };
    if let Some(p) = panicked {
        g.set_wait_reason(WaitReason::None);
        panic::resume_unwind(p);
    }
}

/// How long a goroutine parked while unwinding sleeps before looking
/// again: a waker holding an [`Unparker`] taken before the panic began
/// leaves its token in the goroutine's park word, which this thread does
/// not sleep on. (Wait records made during the unwind wake the thread
/// directly.)
const UNWINDING_POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// [`park`] for a goroutine a panic is unwinding through: block the OS
/// thread (its P may go to another M meanwhile, as in `blocking`), never
/// switch. Returns after a wake-up or [`UNWINDING_POLL`] (callers loop).
#[cold]
fn park_unwinding(commit: impl FnOnce()) {
    crate::blocking::blocking(|| park_thread(WaitReason::Park, commit, Some(UNWINDING_POLL)));
}

/// Where each goroutine last parked, by id, with `WEFT_DEBUG=traceback=1`
/// (a backtrace per park is slow; the dump prints them).
pub(crate) fn park_traces() -> &'static StdMutex<std::collections::HashMap<u64, String>> {
    static T: std::sync::OnceLock<StdMutex<std::collections::HashMap<u64, String>>> =
        std::sync::OnceLock::new();
    T.get_or_init(Default::default)
}

fn record_park_trace(g: GPtr) {
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    park_traces().lock().insert(g.id().as_u64(), bt);
}

/// Wakes whoever `target` is: readies a parked goroutine (to this P's
/// `runnext`) or unparks a thread. Returns whether the scheduler should
/// look for an idle P ([`sched::kick`]) once the caller is done.
#[inline]
fn wake_target(target: Target) -> bool {
    match target {
        Target::G(g) => {
            sched::count_unpark();
            g.park.unpark() && sched::ready(g)
        }
        Target::Thread(t) => {
            // SAFETY: `Waiter::wake`'s caller guarantees the record's owner
            // is inside `Waiter::wait`, which it entered only on this very
            // thread (`park_as` checks) and cannot leave before `DONE`,
            // stored after this call: the thread is alive, and so is the
            // parker its thread-local holds.
            unsafe { t.as_ref() }.unpark();
            false
        }
    }
}

/// Who a [`Waiter`] wakes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    G(GPtr),
    /// A plain thread's parker (kept alive by its thread-local while the
    /// thread waits).
    Thread(NonNull<ThreadParker>),
}

impl Target {
    /// Who parks here: the goroutine, or this OS thread (a plain thread, a
    /// goroutine inside `blocking`, or one a panic is unwinding through,
    /// which blocks its thread: see [`park`]).
    fn current() -> Target {
        match g::current() {
            Some(g) if !std::thread::panicking() => Target::G(g),
            _ => Target::Thread(thread_parker_ptr()),
        }
    }
}

const WAITING: usize = 0;
const CLAIMED: usize = 1;
const DONE: usize = 2;
const STATE_BITS: usize = 2;

/// The largest tag a [`Waiter`] can be claimed with.
pub const MAX_TAG: usize = usize::MAX >> STATE_BITS;

/// The record of one blocking operation (Go's `sudog`): who to wake, and
/// the word that decides who completes the operation. See the module
/// comment for the protocol.
///
/// It lives on the waiting goroutine's (or thread's) stack and must not
/// move between being made visible to a claimer and [`Waiter::wait`]
/// returning. A `select!` shares one record between all its cases; each
/// case claims it with its own tag.
///
/// **Waited on by its maker.** [`Waiter::new`] takes down who will be
/// woken: the calling goroutine, or the calling OS thread (a plain thread,
/// or a goroutine inside [`crate::blocking`], which parks as a thread).
/// Only that goroutine or thread may [`wait`](Waiter::wait) on the record;
/// `wait` checks, and throws (a `fatal error`) for anyone else, before it
/// parks: their wake-up would go to the maker. (A goroutine that made a
/// record may still wait on it while a panic unwinds through it.) The
/// record may be moved or shared, so that a claimer can hold it, as in an
/// `Arc` that a timer's callback keeps.
///
/// ```
/// use weft::runtime::park::Waiter;
/// use weft::WaitReason;
/// use std::sync::Mutex;
///
/// // A one-slot queue of waiters, as a channel or a mutex keeps one.
/// struct Ptr(*const Waiter);
/// unsafe impl Send for Ptr {}
/// static QUEUE: Mutex<Option<Ptr>> = Mutex::new(None);
///
/// let h = weft::spawn(|| {
///     let w = Waiter::new();
///     let mut q = QUEUE.lock().unwrap();
///     *q = Some(Ptr(&w));
///     w.wait(WaitReason::Park, move || drop(q)) // returns the tag it was woken with
/// });
/// loop {
///     let popped = QUEUE.lock().unwrap().take();
///     if let Some(Ptr(w)) = popped {
///         // SAFETY: popped under the queue's lock: only we may claim it.
///         unsafe {
///             assert!((*w).try_claim(7));
///             Waiter::wake(w);
///         }
///         break;
///     }
///     weft::yield_now();
/// }
/// assert_eq!(h.join().unwrap(), 7);
/// ```
pub struct Waiter {
    state: AtomicUsize,
    target: Target,
}

// SAFETY: through `&Waiter` another thread reaches `state`, an atomic
// (`try_claim`, `is_claimed`, `done_tag`, `wake`), and `target`, which is
// never written after `new` and which only `wake` reads: `wake`'s contract
// has the owner inside `wait`, and `wait` parks only on the goroutine or
// thread `target` names (`park_as` checks), so what `target` points to is
// alive until `DONE`.
unsafe impl Sync for Waiter {}
// SAFETY: `target` names the record's maker, not whoever holds it, and is
// used only as above: a record moved to another thread still wakes its
// maker, and `wait` refuses every caller but that maker before it parks.
// Nothing else depends on the thread that holds the record (it has no
// `Drop`).
unsafe impl Send for Waiter {}

impl Waiter {
    /// A record for the calling goroutine (or plain thread): only it may
    /// [`wait`](Waiter::wait) on the record.
    #[inline]
    pub fn new() -> Waiter {
        Waiter {
            state: AtomicUsize::new(WAITING),
            target: Target::current(),
        }
    }

    /// Tries to become the one party that completes this operation, with
    /// `tag` (at most [`MAX_TAG`]; a select uses the case's index). Exactly
    /// one `try_claim` (or `claim_exclusive`) ever succeeds.
    #[inline]
    pub fn try_claim(&self, tag: usize) -> bool {
        debug_assert!(tag <= MAX_TAG);
        // Acquire: pairs with the release that made the record visible
        // (a queue's lock); nothing to release yet — `wake` publishes.
        self.state
            .compare_exchange(
                WAITING,
                (tag << STATE_BITS) | CLAIMED,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Claims the record without a CAS.
    ///
    /// # Safety
    /// Nobody else can claim it: it was in exactly one queue and the caller
    /// removed it under that queue's lock.
    #[inline]
    pub unsafe fn claim_exclusive(&self, tag: usize) {
        debug_assert!(tag <= MAX_TAG);
        debug_assert_eq!(
            self.state.load(Ordering::Relaxed),
            WAITING,
            "an exclusive wait record was claimed elsewhere"
        );
        self.state
            .store((tag << STATE_BITS) | CLAIMED, Ordering::Relaxed);
    }

    /// Whether someone has claimed this record (it may not be done yet).
    pub fn is_claimed(&self) -> bool {
        self.state.load(Ordering::Acquire) != WAITING
    }

    /// Completes a claimed operation: wakes the record's owner, then marks
    /// the record `DONE`. After this call `this` may dangle: the owner may
    /// have returned from its wait.
    ///
    /// # Safety
    /// The caller claimed `this` (a successful [`Waiter::try_claim`] or
    /// [`Waiter::claim_exclusive`]), the record is alive and its owner is
    /// in [`Waiter::wait`] or about to call it (it cannot leave `wait`
    /// before `DONE`), and this is the only call for that claim.
    #[inline]
    pub unsafe fn wake(this: *const Waiter) {
        // SAFETY: alive and claimed by us (the contract): the owner cannot
        // leave `wait` until our store below.
        let (target, claimed) = unsafe {
            let w = &*this;
            (w.target, w.state.load(Ordering::Relaxed))
        };
        let kick = wake_target(target);
        // SAFETY: the record is still alive: its owner cannot leave `wait`
        // before it sees `DONE`, which this very store writes (and we hold
        // the only claim, the contract). This store is our last touch of
        // the record.
        // Release: pairs with the acquire in `wait`, publishing the value
        // the claimer moved.
        unsafe {
            (*this)
                .state
                .store(claimed ^ CLAIMED ^ DONE, Ordering::Release)
        };
        if kick {
            sched::kick();
        }
    }

    /// Parks until claimed and woken; returns the tag it was claimed with.
    /// `commit` runs once the caller is off its stack (see [`park`]):
    /// typically it releases the lock under which this record was queued.
    ///
    /// Throws (a `fatal error`, before `commit` runs) if the caller is not
    /// the goroutine or thread that made the record: see [`Waiter`].
    pub fn wait(&self, reason: WaitReason, commit: impl FnOnce()) -> usize {
        park_as(Some(self.target), reason, commit);
        loop {
            // Acquire: pairs with the release in `wake`.
            let s = self.state.load(Ordering::Acquire);
            match s & (CLAIMED | DONE) {
                DONE => return s >> STATE_BITS,
                CLAIMED => {
                    // Woken before the claimer finished (a stale token, or
                    // stolen by another M the moment it was readied): the
                    // claimer is a few instructions from `DONE`.
                    let mut spins = 0u32;
                    while self.state.load(Ordering::Acquire) & DONE == 0 {
                        spins += 1;
                        if spins < 64 {
                            spin_loop();
                        } else {
                            thread::yield_now();
                        }
                    }
                }
                _ => park(reason, || {}),
            }
        }
    }

    /// The tag, once [`Waiter::wait`] has returned or the record was seen
    /// `DONE`; `None` while waiting.
    pub fn done_tag(&self) -> Option<usize> {
        let s = self.state.load(Ordering::Acquire);
        (s & DONE != 0).then_some(s >> STATE_BITS)
    }
}

/// Under loom, the record's end is a non-atomic access to its word: loom
/// then reports any claimer's access that does not happen before the
/// owner let the record go (its frame returned), as a use after free.
#[cfg(loom)]
impl Drop for Waiter {
    fn drop(&mut self) {
        self.state.with_mut(|_| ());
    }
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter::new()
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        let st = match s & (CLAIMED | DONE) {
            WAITING => "waiting",
            CLAIMED => "claimed",
            _ => "done",
        };
        write!(f, "Waiter({st}, tag {})", s >> STATE_BITS)
    }
}

/// A handle that makes a parked goroutine or thread runnable again.
///
/// Cheap to clone and to send. Unparking something that is not parked
/// leaves a token: its next [`park`] returns at once. Unparking a goroutine
/// that has finished does nothing.
pub struct Unparker(Handle);

enum Handle {
    /// A goroutine; this handle counts in its record's `Life`.
    G(GPtr),
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
    match g::current() {
        Some(g) if !std::thread::panicking() => {
            g.life.add_ext_ref();
            Unparker(Handle::G(g))
        }
        _ => Unparker(Handle::Thread(thread_parker())),
    }
}

impl Unparker {
    /// Makes the goroutine or thread runnable again (Go's `goready`). A
    /// readied goroutine goes to the waker's P's `runnext`, so a handoff
    /// between two goroutines runs the receiver next on the same P.
    pub fn unpark(&self) {
        match &self.0 {
            Handle::G(g) => {
                // The record is alive (we count in its `Life`); if the
                // goroutine finished, its park word is never read again.
                if wake_target(Target::G(*g)) {
                    sched::kick();
                }
            }
            Handle::Thread(t) => t.unpark(),
        }
    }

    /// Whether this handle wakes the same goroutine or thread as `other`.
    pub fn same(&self, other: &Unparker) -> bool {
        match (&self.0, &other.0) {
            (Handle::G(a), Handle::G(b)) => a == b,
            (Handle::Thread(a), Handle::Thread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Whether this handle wakes a goroutine (not a plain thread).
    pub fn is_goroutine(&self) -> bool {
        matches!(self.0, Handle::G(_))
    }
}

impl Clone for Unparker {
    fn clone(&self) -> Unparker {
        match &self.0 {
            Handle::G(g) => {
                g.life.add_ext_ref();
                Unparker(Handle::G(*g))
            }
            Handle::Thread(t) => Unparker(Handle::Thread(t.clone())),
        }
    }
}

impl Drop for Unparker {
    fn drop(&mut self) {
        if let Handle::G(g) = self.0 {
            if g.life.drop_ext_ref() == Release::Recycle {
                // SAFETY: `Life` returned Recycle: the M, the handle and
                // every other `Unparker` let go before, and this one is
                // being dropped.
                unsafe { sched::free_g(g) };
            }
        }
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Handle::G(g) => write!(f, "Unparker(goroutine {})", g.id()),
            Handle::Thread(t) => write!(f, "Unparker(thread {:?})", t.thread.id()),
        }
    }
}

/// How a plain OS thread parks: std's park/unpark plus our own token, so a
/// stray `std::thread::unpark` from elsewhere cannot confuse us.
struct ThreadParker {
    notified: AtomicBool,
    /// Counted in `count`; cleared (and uncounted) by whichever of the
    /// waker and the parker gets there first.
    counted: AtomicBool,
    /// [`THREADS_PARKED`] for a plain thread, [`MS_PARKED`] for an M (one
    /// parking inside `blocking`, or in a timer callback).
    count: &'static StdAtomicUsize,
    thread: Thread,
    /// Why it waits (a `WaitReason`), while counted: the dump lists it.
    reason: AtomicU8,
    /// The kernel's id of the thread, for the dump.
    tid: i32,
}

/// Plain threads parked in weft with no wake-up pending (the deadlock
/// detector counts them as asleep), and parks of threads so far.
static THREADS_PARKED: StdAtomicUsize = StdAtomicUsize::new(0);
static THREAD_PARKS: AtomicU64 = AtomicU64::new(0);
/// Ms parked in weft with no wake-up pending: each is inside a `blocking`
/// call (or a timer callback) that waits for a goroutine, so the deadlock
/// detector counts it as asleep rather than as a call in flight.
static MS_PARKED: StdAtomicUsize = StdAtomicUsize::new(0);

/// (plain threads parked with no wake-up pending, Ms parked so inside
/// `blocking` or a timer callback, thread parks ever).
pub(crate) fn threads_parked() -> (usize, usize, u64) {
    (
        THREADS_PARKED.load(Ordering::SeqCst),
        MS_PARKED.load(Ordering::SeqCst),
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
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

thread_local! {
    static THREAD_PARKER: Arc<ThreadParker> = {
        let on_m = sched::on_m();
        let p = Arc::new(ThreadParker {
            notified: AtomicBool::new(false),
            counted: AtomicBool::new(false),
            count: if on_m { &MS_PARKED } else { &THREADS_PARKED },
            thread: thread::current(),
            reason: AtomicU8::new(WaitReason::None as u8),
            // SAFETY: gettid(2) takes no arguments and cannot fail.
            tid: unsafe { libc::gettid() },
        });
        if !on_m {
            let mut all = PLAIN_THREADS.lock().unwrap_or_else(|e| e.into_inner());
            all.retain(|w| w.strong_count() > 0);
            all.push(Arc::downgrade(&p));
        }
        p
    };
}

/// The parker of every plain thread that has parked or taken an
/// [`Unparker`] (a leaf lock, taken once per thread and by the dump).
static PLAIN_THREADS: std::sync::Mutex<Vec<Weak<ThreadParker>>> = std::sync::Mutex::new(Vec::new());

/// The plain threads parked in weft with no wake-up pending, as the dump
/// lists them: (name, kernel thread id, why).
pub(crate) fn parked_threads() -> Vec<(String, i32, WaitReason)> {
    let all = PLAIN_THREADS.lock().unwrap_or_else(|e| e.into_inner());
    all.iter()
        .filter_map(Weak::upgrade)
        .filter(|p| p.counted.load(Ordering::SeqCst))
        .map(|p| {
            let name = p.thread.name().unwrap_or("<unnamed>").to_owned();
            let reason = WaitReason::from_u8(p.reason.load(Ordering::Relaxed));
            (name, p.tid, reason)
        })
        .collect()
}

/// This thread's parker. `#[inline(never)]`: the thread-local's address
/// must be computed afresh on every call (see `g::current`).
#[inline(never)]
fn thread_parker() -> Arc<ThreadParker> {
    THREAD_PARKER.with(|p| p.clone())
}

/// This thread's parker, uncounted: the thread-local keeps it alive for as
/// long as the thread runs. `#[inline(never)]` as [`thread_parker`].
#[inline(never)]
fn thread_parker_ptr() -> NonNull<ThreadParker> {
    THREAD_PARKER.with(|p| NonNull::from(&**p))
}

/// Parks this OS thread until its parker is unparked (or `timeout` passes).
fn park_thread(reason: WaitReason, commit: impl FnOnce(), timeout: Option<std::time::Duration>) {
    let me = thread_parker();
    commit();
    THREAD_PARKS.fetch_add(1, Ordering::SeqCst);
    if !me.notified.load(Ordering::SeqCst) {
        me.reason.store(reason as u8, Ordering::Relaxed);
        me.counted.store(true, Ordering::SeqCst);
        me.count.fetch_add(1, Ordering::SeqCst);
        if me.notified.load(Ordering::SeqCst) {
            me.uncount();
        } else {
            // Perhaps the last thing that could run: let sysmon look.
            sched::on_thread_parked();
        }
    }
    match timeout {
        None => {
            while !me.notified.swap(false, Ordering::SeqCst) {
                thread::park();
            }
        }
        Some(t) => {
            if !me.notified.swap(false, Ordering::SeqCst) {
                thread::park_timeout(t);
                me.notified.store(false, Ordering::SeqCst);
            }
        }
    }
    me.uncount();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::thread;

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

    #[test]
    fn waiter_between_threads() {
        struct P(*const Waiter);
        // SAFETY: test: the record outlives its use (see below).
        unsafe impl Send for P {}
        let q: Arc<Mutex<Option<P>>> = Arc::default();
        let q2 = q.clone();
        let t = thread::spawn(move || loop {
            if let Some(P(w)) = q2.lock().unwrap().take() {
                // SAFETY: popped under the lock; the owner waits for DONE.
                unsafe {
                    assert!((*w).try_claim(3));
                    assert!(!(*w).try_claim(4));
                    Waiter::wake(w);
                }
                return;
            }
            thread::yield_now();
        });
        let w = Waiter::new();
        let mut g = Some(q.lock().unwrap());
        **g.as_mut().unwrap() = Some(P(&w));
        assert_eq!(w.wait(WaitReason::Park, move || drop(g.take())), 3);
        t.join().unwrap();
    }
}
