//! A snapshot of the scheduler's counters: [`stats`].
//!
//! Owns: reading the per-P counters, queue lengths and idle lists into a
//! plain [`Stats`] value. The counters themselves live where they are
//! bumped (`sched::p::PCounters`, `sched::idle`).
//!
//! Must never: take a lock that the scheduler holds while running
//! goroutines (only the idle-list lock, briefly), or stop the world. The
//! snapshot is therefore not atomic: each number is exact when read.

use std::sync::atomic::Ordering;

use crate::sched;

/// Counters of one processor (P).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PStats {
    /// The P's number.
    pub id: usize,
    /// Goroutines in its local queue plus its `runnext` slot.
    pub run_queue: usize,
    /// Times its M went through the scheduler loop (Go's `schedtick`).
    pub schedticks: u64,
    /// Steal attempts made by this P's M, successful steals, and goroutines
    /// moved by them.
    pub steal_attempts: u64,
    /// Successful steals.
    pub steals: u64,
    /// Goroutines moved here by steals.
    pub stolen: u64,
}

/// A snapshot of the runtime's state (see [`stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Goroutines spawned and not finished ([`crate::num_goroutine`]).
    pub goroutines: usize,
    /// Goroutines ever spawned.
    pub spawned: u64,
    /// Goroutines finished.
    pub finished: u64,
    /// Parks and unparks (goroutines only).
    pub parks: u64,
    /// Unparks of goroutines.
    pub unparks: u64,
    /// Steal attempts, successful steals, goroutines moved by steals.
    pub steal_attempts: u64,
    /// Successful steals.
    pub steals: u64,
    /// Goroutines moved by steals.
    pub stolen: u64,
    /// Goroutines in the global run queue.
    pub global_queue: usize,
    /// `maxprocs`.
    pub maxprocs: usize,
    /// Ps with nothing to run.
    pub idle_procs: usize,
    /// Ms (OS threads running goroutines) created.
    pub threads: usize,
    /// Ms looking for work.
    pub spinning_threads: usize,
    /// Ms asleep waiting for work.
    pub idle_threads: usize,
    /// Goroutines inside `blocking()` right now.
    pub blocking_calls: usize,
    /// Pending timers.
    pub timers: usize,
    /// Per-P counters, for the Ps below `maxprocs`.
    pub procs: Vec<PStats>,
}

/// Reads the runtime's counters. Starts the runtime if needed.
///
/// ```
/// weft::spawn(|| ()).join().unwrap();
/// let s = weft::stats();
/// assert!(s.spawned >= 1);
/// assert_eq!(s.procs.len(), s.maxprocs);
/// ```
pub fn stats() -> Stats {
    let rt = sched::runtime();
    let maxprocs = rt.maxprocs();
    // Exits before spawns: a goroutine counted as finished was counted as
    // spawned before, so `goroutines` never goes below the truth.
    let finished = rt.count(|c| &c.exited);
    let mut s = Stats {
        maxprocs,
        global_queue: rt.global.len(),
        finished,
        spawned: rt.count(|c| &c.spawned),
        parks: rt.count(|c| &c.parks),
        unparks: rt.count(|c| &c.unparks),
        ..Stats::default()
    };
    for p in rt.all_ps() {
        let c = &p.counters;
        let ps = PStats {
            id: p.id,
            run_queue: p.queued(),
            schedticks: c.schedticks.load(Ordering::Relaxed),
            steal_attempts: c.steal_attempts.load(Ordering::Relaxed),
            steals: c.steals.load(Ordering::Relaxed),
            stolen: c.stolen_gs.load(Ordering::Relaxed),
        };
        s.steal_attempts += ps.steal_attempts;
        s.steals += ps.steals;
        s.stolen += ps.stolen;
        if p.id < maxprocs {
            s.procs.push(ps);
        }
    }
    s.goroutines = s.spawned.saturating_sub(s.finished) as usize;
    s.idle_procs = rt.idle.idle_ps();
    s.spinning_threads = rt.idle.spinning();
    s.idle_threads = rt.idle.sleeping_ms();
    s.threads = rt.idle.threads();
    s.blocking_calls = rt.blocking_calls();
    s.timers = crate::timer::pending();
    s
}
