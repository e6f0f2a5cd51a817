//! sysmon: the background thread that keeps the scheduler moving.
//!
//! Owns: the sysmon thread, its polling back-off and its sleep words
//! ([`Sysmon`]: the deep sleep and the wake that ends it, model-checked by
//! `runtime/tests/loom.rs` against the paths that take a P). Each pass it
//! - **retakes** the P of an M that has been inside `blocking()` for more
//!   than [`BLOCKING_RETAKE`] (Go's `retake` of a P in a syscall) and hands it
//!   to another M, so the goroutines queued behind the call run;
//! - **retakes** the P of an M whose goroutine has run for more than
//!   [`RUNNING_RETAKE`] without a scheduling point, when other goroutines are
//!   waiting. weft cannot preempt Rust code safely (a goroutine interrupted
//!   inside `malloc` would deadlock the next one to allocate on that thread),
//!   so it moves the *queue*, not the goroutine: the hog keeps its OS thread
//!   and carries on without a P; everything else runs on the retaken P;
//! - wakes an M for timers that are overdue because every M is busy
//!   (it never runs a timer callback itself: see `worker::fire_timers`);
//! - reports a goroutine that has held its thread for `WEFT_DEBUG=longrun`
//!   milliseconds without a scheduling point (`longrun.rs`);
//! - while the system refuses new threads, tries again to start an M for
//!   work that waits for one (`m.rs`).
//!
//! It polls every 20 µs while things happen and backs off to 10 ms when
//! nothing does; when every P is idle and no `blocking()` call is in flight
//! it sleeps until an M starts, so an idle runtime stays idle.
//!
//! Must never: touch a goroutine's stack, hold a P itself, or write to
//! stderr itself: a write can block (a full pipe nobody reads, std's
//! stderr lock held by a thread blocked so), and a blocked sysmon retakes
//! nothing. Its reports go through `stdio::report`, which hands them to
//! another thread; the deadlock report, which ends the process, is the
//! one it writes (`stdio::report_final`).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use crate::loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::loom::sync::{Condvar, Mutex};

use super::{idle, MShared, Runtime};
use crate::clock::{nanotime, tick_coarse};

/// A P stuck in `blocking()` this long is handed to another M when there
/// is work for it (Go: one sysmon tick, 20 µs).
pub(crate) const BLOCKING_RETAKE: Duration = Duration::from_micros(20);

/// A goroutine that has run this long without a scheduling point loses its
/// P when other goroutines are waiting (Go: `forcePreemptNS`, 10 ms).
pub(crate) const RUNNING_RETAKE: Duration = Duration::from_millis(10);

/// How often sysmon runs the stack pool's scavenger
/// (`StackPool::scavenge`): stacks unused for a whole period give their
/// pages back.
const SCAVENGE_PERIOD: Duration = Duration::from_millis(20);

/// How late a timer may be before sysmon wakes an M for it: running Ms
/// fire timers on every scheduling pass, so a timer this late means every
/// M is busy in one goroutine (or asleep without the timer role).
pub(super) const TIMER_LATE: Duration = Duration::from_millis(1);

const MIN_DELAY: Duration = Duration::from_micros(20);
const MAX_DELAY: Duration = Duration::from_millis(10);
/// Quiet passes before the delay starts doubling (Go: 50 after 1 ms idle).
const QUIET_PASSES: u32 = 50;

/// Backed-off sleeps at least this long wait on the condvar, so a
/// `blocking()` call can cut them short ([`poke`]); shorter ones just sleep.
const DOZE_MIN: Duration = Duration::from_micros(500);

/// sysmon's sleep words: its deep sleep and its doze, and how the rest of
/// the runtime ends them. loom's atomics and lock under `--cfg loom`, so
/// that `runtime/tests/loom.rs` model-checks the deep sleep against the
/// paths that take a P ([`Sysmon::wake`], [`Sysmon::deep_sleep`]).
pub(crate) struct Sysmon {
    /// In the deep sleep (every P idle): only [`wake`] ends it.
    sleeping: AtomicBool,
    /// In a backed-off sleep of at least [`DOZE_MIN`]: [`poke`] ends it.
    dozing: AtomicBool,
    /// Bumped by every `wake`, sleeping or not: sysmon sleeps only if no
    /// wake came since it looked at the runtime (below).
    pokes: AtomicU64,
    lock: Mutex<()>,
    cv: Condvar,
}

impl Sysmon {
    /// Awake, no wake counted.
    #[cfg(not(loom))]
    const fn new() -> Sysmon {
        Sysmon {
            sleeping: AtomicBool::new(false),
            dozing: AtomicBool::new(false),
            pokes: AtomicU64::new(0),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }
    }

    /// As above, with loom's types (which cannot be built in a const).
    #[cfg(loom)]
    fn new() -> Sysmon {
        Sysmon {
            sleeping: AtomicBool::new(false),
            dozing: AtomicBool::new(false),
            pokes: AtomicU64::new(0),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }
    }

    /// The wakes so far: sysmon reads them as a pass begins, before it
    /// looks at the runtime, and passes them to [`Sysmon::deep_sleep`].
    pub(crate) fn pokes(&self) -> u64 {
        self.pokes.load(Ordering::SeqCst)
    }

    /// Counts a wake, then ends the deep sleep if sysmon is in it; `true`
    /// if it was. SeqCst count, then the load: pairs with sysmon's store of
    /// a flag (`sleeping` in [`Sysmon::deep_sleep`], `dozing` in [`doze`])
    /// before it re-reads `pokes`. Either sysmon sees this wake and does
    /// not sleep, or we see it asleep and wake it.
    pub(crate) fn wake(&self) -> bool {
        self.pokes.fetch_add(1, Ordering::SeqCst);
        if !self.sleeping.load(Ordering::SeqCst) {
            return false;
        }
        let _g = self.lock.lock();
        self.sleeping.store(false, Ordering::SeqCst);
        self.cv.notify_one();
        true
    }

    /// The deep sleep, until [`Sysmon::wake`], unless a wake came since
    /// the pass that read `seen` wakes, or `all_idle()` no longer holds.
    /// `sleeping` is set under the lock and `wake` clears it under the
    /// lock: no lost wake-up, provided whatever makes `all_idle()` false
    /// wakes sysmon after it (a P taken off the idle list: every path
    /// that takes one calls [`wake`] after, `Idle::take_idle_p` included).
    ///
    /// The re-read of `pokes` is an RMW (`fetch_add(0)`): loom models a
    /// `SeqCst` load as an acquire load, which may miss a wake the
    /// hardware cannot miss; an RMW reads the latest count, and one that
    /// comes first in the count's order is read by the wake's RMW, which
    /// then sees `sleeping` set. (A cold path: once per deep sleep.)
    pub(crate) fn deep_sleep(&self, seen: u64, all_idle: impl Fn() -> bool) {
        let mut g = self.lock.lock();
        self.sleeping.store(true, Ordering::SeqCst);
        if self.pokes.fetch_add(0, Ordering::SeqCst) != seen || !all_idle() {
            self.sleeping.store(false, Ordering::SeqCst);
        }
        while self.sleeping.load(Ordering::SeqCst) {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        self.sleeping.store(false, Ordering::SeqCst);
    }
}

#[cfg(not(loom))]
static SYSMON: Sysmon = Sysmon::new();

/// sysmon's sleep words (a fresh set per loom execution under loom).
#[cfg(not(loom))]
pub(crate) fn sysmon() -> &'static Sysmon {
    &SYSMON
}

#[cfg(loom)]
crate::loom::lazy_static! {
    static ref SYSMON: Sysmon = Sysmon::new();
}

/// sysmon's sleep words (a fresh set per loom execution under loom).
#[cfg(loom)]
pub(crate) fn sysmon() -> &'static Sysmon {
    &SYSMON
}

/// What sysmon runs when every P is idle: the deadlock check, installed by
/// the layer above the scheduler at start-up (`crate::deadlock`).
pub(crate) static IDLE_CHECK: OnceLock<fn(&'static Runtime)> = OnceLock::new();

/// The runtime sysmon watches, once it has started ([`start`]).
static STARTED: OnceLock<&'static Runtime> = OnceLock::new();

/// Creates the sysmon thread, which waits for [`start`] (the runtime's
/// start creates it first: if the system refuses it, nothing has started).
/// The error names the limits that refuse a thread.
pub(crate) fn spawn() -> std::io::Result<()> {
    match super::spawn_aux("weft-sysmon", || run(STARTED.wait())) {
        Ok(_) => Ok(()),
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!(
                "cannot create the sysmon thread: {e} (the limits that apply: RLIMIT_NPROC \
                 (ulimit -u), a pids cgroup, kernel.threads-max, RLIMIT_AS)"
            ),
        )),
    }
}

/// Lets the sysmon thread made by [`spawn`] run (once, as the runtime's
/// start ends).
pub(crate) fn start(rt: &'static Runtime) {
    let _ = STARTED.set(rt);
}

/// Wakes sysmon from its deep sleep: an M started running, or the
/// runtime may have just gone quiet (time for the deadlock check).
pub(crate) fn wake(_rt: &Runtime) {
    sysmon().wake();
}

/// A P left the idle list (`Idle::take_idle_p`): sysmon must be awake
/// while a P runs. It may be in its deep sleep, begun while every P was
/// idle, and only it polls the netpoller (and retakes Ps) then.
pub(super) fn p_taken() {
    sysmon().wake();
}

/// A goroutine entered `blocking()`: if sysmon has backed off, cut its
/// sleep short so it sees the call now (one shared-counter increment and
/// two loads otherwise).
///
/// Without this, a call made while sysmon sleeps its longest (10 ms) kept
/// its P that long before the two passes a retake needs; at maxprocs 1 a
/// chain of blocking calls (each goroutine's call is noticed only after the
/// previous one's P was handed on) then took several times its length
/// (issue 15: 100 × `blocking(sleep 100 ms)` took 220–330 ms on a loaded
/// machine).
///
/// It also ends the deep sleep: that sleep is only for a runtime with no
/// call in flight, and an M that found work without going through
/// `startm` (it was still spinning) did not wake sysmon; the call would
/// then keep its P until something else did (issue 15's stall repro: the
/// first goroutine of a run started its neighbour 10 ms late).
#[inline]
pub(crate) fn poke() {
    let s = sysmon();
    // Counted before the flags are read (`Sysmon::wake`): a poke that
    // only read the flags was lost when it came between sysmon's pass and
    // its doze, and the call kept its P for the whole 10 ms doze, once per
    // run of the stall repro.
    if !s.wake() && s.dozing.load(Ordering::SeqCst) {
        let _g = s.lock.lock();
        s.dozing.store(false, Ordering::SeqCst);
        s.cv.notify_one();
    }
}

/// Sleeps one sysmon period; a long one can be cut short by [`poke`],
/// and is skipped if a poke came since the last pass read `seen` pokes.
fn doze(s: &Sysmon, delay: Duration, seen: u64) {
    if delay < DOZE_MIN {
        std::thread::sleep(delay);
        return;
    }
    let deadline = std::time::Instant::now() + delay;
    let mut g = s.lock.lock();
    s.dozing.store(true, Ordering::SeqCst);
    if s.pokes.load(Ordering::SeqCst) != seen {
        s.dozing.store(false, Ordering::SeqCst);
    }
    while s.dozing.load(Ordering::SeqCst) {
        let now = std::time::Instant::now();
        if now >= deadline {
            break;
        }
        g =
            s.cv.wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
    }
    s.dozing.store(false, Ordering::SeqCst);
}

/// Called by an M about to sleep (Go's `mput`, which runs `checkdead`):
/// when it was the last one running, let sysmon look for a deadlock.
pub(crate) fn on_m_idle(rt: &'static Runtime) {
    if rt.idle.idle_ps() == rt.maxprocs() {
        wake(rt);
    }
}

fn run(rt: &'static Runtime) {
    let s = sysmon();
    let mut delay = MIN_DELAY;
    let mut quiet = 0u32;
    let mut seen = HashMap::new();
    let mut slices = Vec::new();
    let mut scavenged = nanotime();
    let mut pokes = s.pokes();
    loop {
        doze(s, delay, pokes);
        tick_coarse();
        if nanotime().saturating_sub(scavenged) >= SCAVENGE_PERIOD.as_nanos() as u64 {
            rt.stacks.scavenge();
            scavenged = nanotime();
        }
        pokes = s.pokes();
        // Back off unless this pass had to act (Go: `idle` counts passes
        // without a retake).
        let busy = retake(rt, &mut seen) | watch_ps(rt, &mut slices);
        // Timers fire on Ms only (`worker::fire_timers`): a callback that
        // misbehaves must not stall sysmon. Overdue ones get an M woken.
        if crate::timer::next_deadline()
            .is_some_and(|d| d + TIMER_LATE <= std::time::Instant::now())
        {
            idle::timers_changed(rt);
            quiet = 0;
        }
        // netpoll: poll when nobody has for 10 ms.
        if crate::netpoll::sysmon_poll() {
            quiet = 0;
        }
        // An M's thread was refused (`m.rs`): try again now and then, and
        // never sleep for good while work waits for it.
        let refused = super::m::retry_refused(rt);
        if busy {
            quiet = 0;
            delay = MIN_DELAY;
        } else {
            quiet += 1;
            if quiet > QUIET_PASSES {
                delay = (delay * 2).min(MAX_DELAY);
            }
        }
        let ps_idle = rt.idle.idle_ps() == rt.maxprocs();
        if ps_idle {
            // The check itself decides whether calls in flight in
            // `blocking()` (or timer callbacks) are all parked in weft,
            // waiting for goroutines that cannot run.
            if let Some(check) = IDLE_CHECK.get() {
                check(rt);
            }
        }
        // Not while a goroutine runs without a P (sysmon retook it): the
        // long-run report still has to see it.
        let all_idle = ps_idle && rt.blocking_calls() == 0 && !rt.goroutine_running();
        if all_idle && quiet > QUIET_PASSES && !refused {
            // Deep sleep until poked (`wake`). `sleeping` is set under the
            // lock and `wake` clears it under the lock; a poke that came
            // after this pass looked at the runtime (an M went idle, a
            // thread parked: time for another deadlock check) cancels the
            // sleep: no lost wake-up.
            // Idle: whatever the pool holds beyond its reserve is unused.
            rt.stacks.scavenge();
            rt.stacks.scavenge();
            s.deep_sleep(pokes, || rt.idle.idle_ps() == rt.maxprocs());
            tick_coarse();
            delay = MIN_DELAY;
            quiet = 0;
        }
    }
}

/// What sysmon last saw of an M's `run_seq` and `blocking_seq`, and when
/// it first saw each value.
#[derive(Clone, Copy, Default)]
struct Seen {
    seq: u64,
    since: u64,
    bseq: u64,
    bsince: u64,
    /// The `run_seq` whose long run was reported (each stretch once).
    reported: u64,
    /// The stretch probed half-way to the long-run threshold, when, its
    /// thread's CPU time then (`longrun::cpu_ns`), and the M's spawn count.
    probe: (u64, u64, u64, u64),
    /// `(blocking_seq, run_seq)` when sysmon last took this M's P: until
    /// either moves the slot stays empty, and looking costs a membarrier
    /// (`pcell`'s remote side).
    retook: Option<(u64, u64)>,
}

/// One pass over the Ms; `true` if it retook a P.
fn retake(rt: &'static Runtime, seen: &mut HashMap<usize, Seen>) -> bool {
    let ms: Vec<&'static MShared> = rt.all_ms.lock().clone();
    let now = nanotime();
    // Keyed by M id: Ms come and go (idle ones exit), so positions shift.
    seen.retain(|id, _| ms.iter().any(|m| m.id == *id));
    let mut busy = false;
    for m in ms {
        let seen = seen.entry(m.id).or_default();
        if m.exited.load(Ordering::Relaxed) {
            continue;
        }
        let bseq = m.blocking_seq.load(Ordering::Acquire);
        let seq = m.run_seq.load(Ordering::Relaxed);
        if seq != seen.seq {
            (seen.seq, seen.since) = (seq, now);
        }
        let new_call = bseq != seen.bseq;
        if new_call {
            (seen.bseq, seen.bsince) = (bseq, now);
            // A call just began: look again after the shortest period, not
            // a backed-off one, so it is retaken as soon as it has lasted
            // long enough.
            busy |= bseq % 2 == 1;
        }
        // Its P is gone until it comes back, which moves a sequence.
        let taken = seen.retook == Some((bseq, seq));
        if bseq % 2 == 1 {
            // Seen inside the same call on an earlier pass: it has lasted at
            // least one sysmon period (>= 20 us).
            let age = now.saturating_sub(seen.bsince);
            if !new_call && !taken && age >= BLOCKING_RETAKE.as_nanos() as u64 / 2 {
                let still = |m: &MShared| m.blocking_seq.load(Ordering::Acquire) == bseq;
                if retake_from(rt, m, age >= MAX_DELAY.as_nanos() as u64, still) {
                    (busy, seen.retook) = (true, Some((bseq, seq)));
                }
            }
        } else if seq % 2 == 1 {
            if !taken && now.saturating_sub(seen.since) >= RUNNING_RETAKE.as_nanos() as u64 {
                let still = |m: &MShared| m.run_seq.load(Ordering::Acquire) == seq;
                if retake_from(rt, m, false, still) {
                    (busy, seen.retook) = (true, Some((bseq, seq)));
                }
            }
            // A `blocking()` call is a scheduling point too: a goroutine
            // making many short ones is not holding its thread.
            let held = now.saturating_sub(seen.since.max(seen.bsince));
            let limit = rt.settings.debug.longrun_ms.saturating_mul(1_000_000);
            if limit > 0 && held >= limit / 2 && seen.reported != seq {
                // Half-way: note the thread's CPU time, so that at the
                // threshold a thread the OS merely did not run (a loaded
                // machine) is told from one that computes.
                // A goroutine that spawns (a loop starting a million
                // goroutines) is working with the scheduler, not holding
                // its thread: the stretch starts again.
                // (The CPU time is read on the first quiet pass: a /proc
                // read per pass would cost sysmon more than the loop.)
                let spawned = m.counters.spawned.load(Ordering::Relaxed);
                if seen.probe.0 != seq || seen.probe.3 != spawned {
                    seen.probe = (seq, now, u64::MAX, spawned);
                } else if seen.probe.2 == u64::MAX {
                    let cpu = super::longrun::cpu_ns(m.tid).unwrap_or(0);
                    seen.probe = (seq, now, cpu, spawned);
                } else if now.saturating_sub(seen.probe.1) >= limit / 2
                    && super::longrun::report(m, seq, held, seen.probe, now)
                {
                    seen.reported = seq;
                }
            }
        }
    }
    busy
}

/// Takes `m`'s P if other goroutines need it (or `always`) and runs it on
/// another M; a P with nothing to do goes to the idle list.
///
/// `still` re-checks, under the slot lock, that the M is in the call or
/// run sysmon saw: a goroutine leaving `blocking()` bumps its sequence
/// before it looks at its slot, so either we see the bump and leave the P,
/// or it finds the slot empty and takes the slow path. (Without the
/// re-check the P could go just after the goroutine found it there; it then
/// ran on without a P until its next scheduling point.)
fn retake_from(
    rt: &'static Runtime,
    m: &'static MShared,
    always: bool,
    still: impl Fn(&MShared) -> bool,
) -> bool {
    let mut slot = m.p.lock_remote();
    // Pending timers need this P only when no other P is free to fire
    // them (an idle M holds the timer role and wakes for the deadline);
    // Go's retake likewise leaves a P in a syscall alone while its queue is
    // empty and some P is idle or spinning.
    let needed = slot.as_ref().is_some_and(|p| {
        always
            || !p.is_idle()
            || !rt.global.is_empty()
            || (crate::timer::pending() > 0 && rt.idle.idle_ps() + rt.idle.spinning() == 0)
    }) && still(m);
    if !needed {
        return false;
    }
    let Some(p) = slot.take() else { return false };
    drop(slot);
    crate::trace::retake(
        p.p.id,
        m.id,
        m.blocking_seq.load(Ordering::Relaxed) % 2 == 1,
    ); // trace
    idle::handoff_p(rt, p);
    true
}

/// What sysmon last saw of a P: its time slice and when it first saw it,
/// and its progress word at the last pass.
#[derive(Clone, Copy, Default)]
struct PSeen {
    slice: u64,
    since: u64,
    progress: u64,
}

/// sysmon's pass over the Ps; `true` if it acted.
///
/// - **Stalled work** (the other half of `sched::ready`'s lazy wake-up):
///   a goroutine readied into `runnext` does not wake an idle P, because
///   the M that readied it usually runs it next. If instead that M's
///   goroutine keeps running, the readied one would wait. So when a P has
///   had queued work and made no progress across a whole pass while a P is
///   idle and no M spins, wake one; it steals the waiting goroutine
///   (`P::steal_runnext`). A pipeline stage that computes between sends
///   thus gets its successor running on another P within a pass or two.
/// - **Rotation**: asks every P whose time slice has lasted
///   [`RUNNING_RETAKE`] while others wait in its queue to rotate at its
///   next scheduling point (Go's `preemptone` after `forcePreemptNS`; weft
///   cannot interrupt the goroutine, but goroutines that hand off through
///   `runnext` inherit one slice, so a ping-ponging pair reaches a
///   scheduling point often and rotates there).
fn watch_ps(rt: &'static Runtime, seen: &mut Vec<PSeen>) -> bool {
    let now = nanotime();
    let mut acted = false;
    let mut stalled = false;
    // Goroutines on the global queue wait for every P's slice to end.
    let global_waits = !rt.global.is_empty();
    for (i, p) in rt.all_ps().enumerate() {
        if seen.len() <= i {
            seen.push(PSeen::default());
        }
        let s = &mut seen[i];
        let progress = p.progress();
        let has_work = p.has_work();
        if has_work && progress == s.progress {
            stalled = true;
        }
        s.progress = progress;
        let slice = p.slice();
        if slice != s.slice {
            (s.slice, s.since) = (slice, now);
            continue;
        }
        if now.saturating_sub(s.since) >= RUNNING_RETAKE.as_nanos() as u64
            && (has_work || global_waits)
        {
            // A request still pending (nobody has run the P since: an idle
            // P whose new M was refused, `m.rs`) is no news: no reason to
            // poll faster.
            acted |= !p.preempt_requested();
            p.request_preempt();
            s.since = now;
        }
    }
    // (Not while new threads are refused: `m::retry_refused` tries then.)
    if stalled && rt.idle.idle_ps() > 0 && rt.idle.spinning() == 0 && !super::m::refusing() {
        idle::wakep(rt);
        acted = true;
    }
    acted
}
