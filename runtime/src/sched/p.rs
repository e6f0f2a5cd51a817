//! P: a processor, the right to run goroutines.
//!
//! A P is split in two:
//! - [`P`], the shared half, lives for the whole process in the runtime's P
//!   table: the stealing ends of the run queues, the `runnext` slot (other
//!   Ps may take from all three), the time-slice word sysmon watches, and
//!   counters anyone may read.
//! - [`POwned`], the owner's half: the pushing/popping ends of the run
//!   queues, the stack and G-record caches, the goroutine-id cache, the
//!   scheduler tick and a random number generator. It is a plain value:
//!   whoever holds it *is* the M running this P, so its fields need no
//!   synchronisation. It moves between an M's slot, the idle list and the
//!   retired list.
//!
//! The run queues, in the order the owner takes from them
//! ([`POwned::next`]):
//! 1. `runnext`: the goroutine the running one just readied (a channel
//!    hand-off). It *inherits the time slice*: running it does not start a
//!    new slice, so two goroutines handing off to each other share one
//!    slice, and when sysmon sees a slice last 10 ms it asks for a
//!    rotation ([`P::request_preempt`]) — Go's rule, which keeps a pair of
//!    ping-ponging goroutines from starving the rest of the queue.
//! 2. `local`: a FIFO of everything else (displaced `runnext`s, yields,
//!    children under child stealing), as Go's local run queue. It goes
//!    before the continuations so that goroutines readied by a subtree
//!    (a leaf whose send was received) finish and give back their stacks
//!    before the next subtree starts.
//! 3. `conts`: continuations of spawners (continuation stealing), a LIFO
//!    for the owner — the most recent spawner resumes first, so fork-join
//!    recursion runs depth first and finds its children finished — and
//!    FIFO for thieves, who take the oldest, largest piece of work. A
//!    yield moves them into `local` ahead of the yielder.
//!
//! Must never: be touched by two Ms at once (the type system sees to that
//! for `POwned`; `P` holds only atomics and thread-safe queue ends).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::g::{GPtr, GSlot};
use crate::stack::LocalStacks;

/// Counters of one P, written by its owner (relaxed), read by `stats()`.
#[derive(Default)]
pub(crate) struct PCounters {
    pub schedticks: AtomicU64,
    pub steal_attempts: AtomicU64,
    pub steals: AtomicU64,
    pub stolen_gs: AtomicU64,
}

/// Adds to a counter only its owner writes: a load and a store, no locked
/// instruction.
#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// The shared half of a processor.
pub(crate) struct P {
    pub id: usize,
    pub local_stealer: Stealer<GPtr>,
    pub conts_stealer: Stealer<GPtr>,
    pub runnext: GSlot,
    /// Bumped by the owner at every `runnext` push, so a thief can tell a
    /// goroutine that has sat there a while from a stream of hand-offs.
    runnext_pushes: AtomicU64,
    /// Bumped by the owner whenever a goroutine starts a new time slice
    /// (Go's `schedtick`); sysmon watches it.
    slice: AtomicU64,
    /// Set by sysmon when one slice has lasted too long: the owner rotates
    /// at its next scheduling point.
    preempt: AtomicBool,
    pub counters: PCounters,
}

impl P {
    /// A word that changes whenever the owner starts a slice or hands a
    /// goroutine to `runnext` (sysmon's view of progress).
    pub fn progress(&self) -> u64 {
        self.slice.load(Ordering::Relaxed)
            ^ self.runnext_pushes.load(Ordering::Relaxed).rotate_left(32)
    }

    /// The current slice's number (sysmon's view).
    pub fn slice(&self) -> u64 {
        self.slice.load(Ordering::Relaxed)
    }

    /// Asks the owner to let the rest of its queue run at its next
    /// scheduling point (sysmon, when a slice lasted too long).
    pub fn request_preempt(&self) {
        self.preempt.store(true, Ordering::Relaxed);
    }

    /// Whether sysmon asked the owner to rotate (read where a goroutine
    /// may give up its slice without parking: leaving `blocking()`).
    pub fn preempt_requested(&self) -> bool {
        self.preempt.load(Ordering::Relaxed)
    }

    /// Whether anything is queued here.
    pub fn has_work(&self) -> bool {
        !self.runnext.is_empty() || !self.conts_stealer.is_empty() || !self.local_stealer.is_empty()
    }

    /// Goroutines queued here (approximate while others run).
    pub fn queued(&self) -> usize {
        self.local_stealer.len() + self.conts_stealer.len() + usize::from(!self.runnext.is_empty())
    }

    /// Takes this P's `runnext` goroutine if it has sat there for
    /// `grace` — its owner is busy and will not get to it soon — rather than
    /// being one of a stream of hand-offs its owner runs at once (Go's
    /// `runqgrab` sleeps 3 µs before stealing `runnext` for the same
    /// reason: stealing a hand-off splits a ping-ponging pair across Ps).
    pub fn steal_runnext(&self, grace: std::time::Duration) -> Option<GPtr> {
        if self.runnext.is_empty() {
            return None;
        }
        let pushes = self.runnext_pushes.load(Ordering::Relaxed);
        let start = std::time::Instant::now();
        while start.elapsed() < grace {
            std::hint::spin_loop();
            if self.runnext.is_empty() || self.runnext_pushes.load(Ordering::Relaxed) != pushes {
                return None;
            }
        }
        self.runnext.take()
    }

    /// Steals about half of this P's queued work into `into`, returning
    /// one goroutine to run; continuations first (the oldest is the largest
    /// piece of a fork-join computation).
    pub fn steal_into(&self, into: &Worker<GPtr>) -> Option<GPtr> {
        for s in [&self.conts_stealer, &self.local_stealer] {
            loop {
                match s.steal_batch_and_pop(into) {
                    Steal::Success(g) => return Some(g),
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }
}

/// How many goroutine records a P keeps for reuse before spilling half.
pub(crate) const GFREE_LOCAL: usize = 64;

/// The owner's half of a processor.
pub(crate) struct POwned {
    pub p: &'static P,
    local: Worker<GPtr>,
    conts: Worker<GPtr>,
    /// Scheduling rounds: every 61st looks at the global queue first.
    tick: u32,
    pub stacks: LocalStacks,
    /// Finished goroutine records ready for reuse (Go's `gFree`).
    pub gfree: Vec<GPtr>,
    goid_next: u64,
    goid_end: u64,
    rng: u64,
}

/// Every this many ticks, the global queue goes first (Go: 61).
const GLOBAL_FAIRNESS_TICK: u32 = 61;

/// Goroutine ids are taken from the global counter this many at a time.
const GOID_BATCH: u64 = 16;

/// Where a runnable goroutine came from, for the caller's bookkeeping.
pub(crate) enum Source {
    /// `runnext`: runs in the current time slice.
    Inherited,
    /// Anywhere else: a new slice.
    NewSlice,
}

impl POwned {
    /// A new processor number `id`: the shared half (to be put in the P
    /// table) and a function making the owned half from it.
    pub fn new_parts(id: usize) -> (P, (Worker<GPtr>, Worker<GPtr>)) {
        let local = Worker::new_fifo();
        let conts = Worker::new_lifo();
        let p = P {
            id,
            local_stealer: local.stealer(),
            conts_stealer: conts.stealer(),
            runnext: GSlot::new(),
            runnext_pushes: AtomicU64::new(0),
            slice: AtomicU64::new(0),
            preempt: AtomicBool::new(false),
            counters: PCounters::default(),
        };
        (p, (local, conts))
    }

    pub fn from_parts(p: &'static P, (local, conts): (Worker<GPtr>, Worker<GPtr>)) -> POwned {
        POwned {
            p,
            local,
            conts,
            tick: 0,
            stacks: LocalStacks::default(),
            gfree: Vec::new(),
            goid_next: 0,
            goid_end: 0,
            rng: 0x9E37_79B9_7F4A_7C15 ^ ((p.id as u64 + 1) << 32),
        }
    }

    /// Puts `g` in `runnext`. The G that was there goes to the back of the
    /// local queue; returns whether that happened (there is now stealable
    /// work).
    #[inline]
    pub fn push_runnext(&mut self, g: GPtr) -> bool {
        bump(&self.p.runnext_pushes, 1);
        match self.p.runnext.swap(Some(g)) {
            Some(old) => {
                self.local.push(old);
                true
            }
            None => false,
        }
    }

    /// Puts a goroutine that yielded behind everything runnable here
    /// (Go's `Gosched`): the waiting continuations move to the local
    /// queue first, so they run before it.
    pub fn push_yield(&mut self, g: GPtr) {
        self.conts_to_local();
        self.local.push(g);
    }

    /// A time slice ran out: everything queued here gets a turn, in order —
    /// the local queue, then the continuations, then the goroutine that
    /// was about to inherit the slice.
    fn rotate(&mut self) {
        self.conts_to_local();
        if let Some(g) = self.p.runnext.take() {
            self.local.push(g);
        }
    }

    fn conts_to_local(&mut self) {
        while let Some(c) = self.conts.pop() {
            self.local.push(c);
        }
    }

    /// Pushes a spawner's continuation (continuation stealing).
    #[inline]
    pub fn push_cont(&mut self, g: GPtr) {
        self.conts.push(g);
    }

    /// The queue thieves steal into (our local FIFO).
    pub fn local_worker(&self) -> &Worker<GPtr> {
        &self.local
    }

    /// Starts a new time slice (sysmon sees the P make progress).
    #[inline]
    pub fn new_slice(&mut self) {
        bump(&self.p.slice, 1);
    }

    /// The next goroutine to run from this P's queues and the global queue
    /// (steps 1–4 of `worker.rs`'s work finding), and whether it inherits
    /// the current time slice.
    #[inline]
    pub fn next(&mut self, global: &Injector<GPtr>) -> Option<(GPtr, Source)> {
        self.tick = self.tick.wrapping_add(1);
        bump(&self.p.counters.schedticks, 1);
        if self.p.preempt.load(Ordering::Relaxed) {
            // The slice ran out: the readied goroutine waits its turn behind
            // the rest of the queue instead of inheriting the slice again.
            self.p.preempt.store(false, Ordering::Relaxed);
            self.rotate();
            if let Some(g) = steal_one(global) {
                return Some((g, Source::NewSlice));
            }
        } else {
            if self.tick.is_multiple_of(GLOBAL_FAIRNESS_TICK) {
                if let Some(g) = steal_one(global) {
                    return Some((g, Source::NewSlice));
                }
            }
            if let Some(g) = self.p.runnext.take() {
                return Some((g, Source::Inherited));
            }
        }
        if let Some(g) = self.local.pop().or_else(|| self.conts.pop()) {
            return Some((g, Source::NewSlice));
        }
        if let Some(g) = self.p.runnext.take() {
            return Some((g, Source::NewSlice));
        }
        loop {
            match global.steal_batch_and_pop(&self.local) {
                Steal::Success(g) => return Some((g, Source::NewSlice)),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    /// Moves everything queued here to `global` (when the P is retired).
    pub fn drain_into(&mut self, global: &Injector<GPtr>) {
        if let Some(g) = self.p.runnext.take() {
            global.push(g);
        }
        while let Some(g) = self.conts.pop() {
            global.push(g);
        }
        while let Some(g) = self.local.pop() {
            global.push(g);
        }
    }

    /// Whether the owner's queues are empty (runnext included).
    pub fn is_idle(&self) -> bool {
        self.local.is_empty() && self.conts.is_empty() && self.p.runnext.is_empty()
    }

    /// The next goroutine id.
    #[inline]
    pub fn next_goid(&mut self, global: &AtomicU64) -> u64 {
        if self.goid_next == self.goid_end {
            self.goid_next = global.fetch_add(GOID_BATCH, Ordering::Relaxed);
            self.goid_end = self.goid_next + GOID_BATCH;
        }
        let id = self.goid_next;
        self.goid_next += 1;
        id
    }

    /// A cheap pseudo-random number (xorshift64*), for victim choice.
    pub fn rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

pub(crate) fn steal_one(q: &Injector<GPtr>) -> Option<GPtr> {
    loop {
        match q.steal() {
            Steal::Success(g) => return Some(g),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}
