//! P: a processor, the right to run goroutines.
//!
//! A P is split in two:
//! - [`P`], the shared half, lives for the whole process in the runtime's P
//!   table: the stealing end of the run queue, the `runnext` slot (other Ps
//!   may take from both) and counters anyone may read.
//! - [`POwned`], the owner's half: the pushing/popping end of the run queue,
//!   the stack cache, the goroutine-id cache, the scheduler tick and a random
//!   number generator. It is a plain value: whoever holds it *is* the M
//!   running this P, so its fields need no synchronisation. It moves between
//!   an M's thread-local slot, the idle list and the retired list.
//!
//! Must never: be touched by two Ms at once (the type system sees to that for
//! `POwned`; `P` holds only atomics and thread-safe queue ends).

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_deque::{Stealer, Worker};

use crate::g::{GRef, GSlot};
use crate::stack::LocalStacks;

/// Counters of one P, written by its owner (relaxed), read by `stats()`.
#[derive(Default)]
pub(crate) struct PCounters {
    pub spawned: AtomicU64,
    pub exited: AtomicU64,
    pub schedticks: AtomicU64,
    pub steal_attempts: AtomicU64,
    pub steals: AtomicU64,
    pub stolen_gs: AtomicU64,
    pub parks: AtomicU64,
    pub unparks: AtomicU64,
}

impl PCounters {
    pub fn bump(c: &AtomicU64, n: u64) {
        // Only the owner writes, so load+store is enough and avoids a locked op.
        c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }
}

/// The shared half of a processor.
pub(crate) struct P {
    pub id: usize,
    pub stealer: Stealer<GRef>,
    pub runnext: GSlot,
    pub counters: PCounters,
}

/// The owner's half of a processor.
pub(crate) struct POwned {
    pub p: &'static P,
    pub local: Worker<GRef>,
    /// Scheduling rounds on this P (Go's `schedtick`).
    pub schedtick: u32,
    /// Consecutive goroutines taken from `runnext`; capped so two goroutines
    /// handing off through the slot cannot starve the queue behind them.
    pub runnext_streak: u32,
    pub stacks: LocalStacks,
    goid_next: u64,
    goid_end: u64,
    rng: u64,
}

/// How many goroutines may run in a row from `runnext` (tokio uses 3).
pub(crate) const RUNNEXT_LIMIT: u32 = 3;

/// Goroutine ids are taken from the global counter this many at a time.
const GOID_BATCH: u64 = 16;

impl POwned {
    pub fn new_parts(id: usize) -> (P, Worker<GRef>) {
        let local = Worker::new_fifo();
        let p = P {
            id,
            stealer: local.stealer(),
            runnext: GSlot::new(),
            counters: PCounters::default(),
        };
        (p, local)
    }

    pub fn from_parts(p: &'static P, local: Worker<GRef>) -> POwned {
        POwned {
            p,
            local,
            schedtick: 0,
            runnext_streak: 0,
            stacks: LocalStacks::default(),
            goid_next: 0,
            goid_end: 0,
            rng: 0x9E37_79B9_7F4A_7C15 ^ ((p.id as u64 + 1) << 32),
        }
    }

    /// Puts `g` in `runnext`; the G that was there goes to the back of the queue.
    pub fn push_runnext(&mut self, g: GRef) {
        if let Some(old) = self.p.runnext.swap(Some(g)) {
            self.local.push(old);
        }
    }

    /// Puts `g` at the back of the local queue.
    pub fn push_back(&mut self, g: GRef) {
        self.local.push(g);
    }

    /// Moves everything queued here to `global` (when the P is retired).
    pub fn drain_into(&mut self, global: &crossbeam_deque::Injector<GRef>) {
        if let Some(g) = self.p.runnext.take() {
            global.push(g);
        }
        while let Some(g) = self.local.pop() {
            global.push(g);
        }
    }

    /// The next goroutine id.
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
