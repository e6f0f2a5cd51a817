//! loom models of the runtime's own protocols. Each model runs the
//! runtime's real code (through `weft_runtime::loom_api`, thin wrappers
//! over the crate-private types, and `weft_runtime::park`) on loom's
//! atomics, locks and threads, which `src/loom.rs` swaps in under
//! `--cfg loom`; loom then runs every interleaving (within a preemption
//! bound) and every value a relaxed or acquire load may see.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p weft-runtime --test loom
//! ```
//!
//! What each model proves is in its comment. Where the real code needs a
//! running scheduler (coroutines, Ms), the model plays that part with loom
//! threads: a thread parking on loom's `park` stands for an M waiting to be
//! handed a goroutine or a P.
#![cfg(loom)]

use loom::sync::atomic::AtomicU64;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use std::collections::VecDeque;

use weft_runtime::loom_api::{
    Due, Idle, NodePtr, ParkWord, PollHandoff, Record, Sleeper, Spin, SpinCell, SysmonSleep,
    WaitNode, HANDOFF, WOKEN,
};
use weft_runtime::park::{unparker, Waiter};
use weft_runtime::WaitReason;

/// Runs `f` under loom with a preemption bound (loom's advice for models
/// with more than two threads: bugs need few preemptions, and the full
/// space does not finish).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    let bound = std::env::var("WEFT_LOOM_BOUND").map_or(bound, |v| v.parse().unwrap());
    b.preemption_bound = (bound > 0).then_some(bound);
    b.max_threads = 5;
    b.check(f);
}

/// A raw pointer handed to another loom thread (the models keep what it
/// points to alive until that thread is joined).
struct Ptr<T>(*const T);
impl<T> Clone for Ptr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Ptr<T> {}
// SAFETY: test scaffolding: the pointee outlives every thread it is sent to
// (each model joins them before it goes away) and is `Sync`.
unsafe impl<T: Sync> Send for Ptr<T> {}

// ---------------------------------------------------------------------------
// g::ParkWord

/// The park word, one park: the M publishing PARKED races two wakers.
/// Exactly one party resumes the goroutine — the M itself (it found a
/// token) or the one waker whose `unpark` returned `true` — never none
/// (a lost wake-up) and never two (a goroutine in two run queues).
#[test]
fn park_word_one_resume_per_park() {
    model(3, || {
        let pw = Arc::new(ParkWord::new());
        let resumes = Arc::new(AtomicUsize::new(0));
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let (pw, resumes) = (pw.clone(), resumes.clone());
                thread::spawn(move || {
                    if pw.unpark() {
                        resumes.fetch_add(1, Relaxed);
                    }
                })
            })
            .collect();
        if !pw.publish_parked() {
            resumes.fetch_add(1, Relaxed);
        }
        for w in wakers {
            w.join().unwrap();
        }
        assert_eq!(resumes.load(Relaxed), 1);
    });
}

/// The park word as a goroutine uses it: it waits for two conditions,
/// each set by its own waker before that waker's `unpark`, re-checking
/// after every resume (a token makes the M run it again at once). Every
/// park is readied exactly once, and the goroutine always sees both
/// conditions in the end: a waker whose `unpark` found a token already
/// there still publishes its condition (else the goroutine, resumed by the
/// other waker's token, may miss it and park for ever — loom reports the
/// deadlock).
#[test]
fn park_word_token_never_loses_a_wakeup() {
    model(3, || {
        let pw = Arc::new(ParkWord::new());
        let conds = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        // The M's "run queue": a waker that readies the goroutine counts it
        // here and unparks the M's thread. (A counter bumped by RMWs and
        // read by loads: loom 0.7 may let an RMW read a store older than
        // one that happens-before it, so no plain store races an RMW in
        // these models.)
        let readied = Arc::new(AtomicUsize::new(0));
        let m = thread::current();
        let wakers: Vec<_> = (0..2)
            .map(|i| {
                let (pw, conds, readied, m) =
                    (pw.clone(), conds.clone(), readied.clone(), m.clone());
                thread::spawn(move || {
                    conds[i].store(true, Release);
                    if pw.unpark() {
                        readied.fetch_add(1, Release);
                        m.unpark();
                    }
                })
            })
            .collect();
        let mut parks = 0;
        while !(conds[0].load(Acquire) && conds[1].load(Acquire)) {
            // The goroutine parks; its M publishes.
            if pw.publish_parked() {
                parks += 1;
                while readied.load(Acquire) < parks {
                    thread::park();
                }
            }
        }
        for w in wakers {
            w.join().unwrap();
        }
        assert_eq!(
            parks,
            readied.load(Relaxed),
            "a park readied twice, or never"
        );
    });
}

// ---------------------------------------------------------------------------
// park::Waiter: the wait record's claim/DONE protocol

/// One claimer against the owner's wait, with a stray `unpark` of the
/// owner's thread (a spurious wake-up): the owner returns only after the
/// claimer's `DONE` — it sees the value the claimer moved and the tag it
/// claimed with — and the claimer never touches the record after `DONE`:
/// the owner reuses the record's memory the moment it returns, and nothing
/// writes to it afterwards.
#[test]
fn waiter_claim_races_spurious_wakeup() {
    model(3, || {
        let slot = Arc::new(loom::cell::UnsafeCell::new(0u32));
        let mut w = Waiter::new();
        let wp = Ptr(&w as *const Waiter);
        let s2 = slot.clone();
        let claimer = thread::spawn(move || {
            let w = wp;
            // SAFETY: the owner waits (below) until this claim is DONE, and
            // joins us before the record goes away.
            unsafe {
                if (*w.0).try_claim(5) {
                    s2.with_mut(|p| *p = 42);
                    Waiter::wake(w.0);
                }
            }
        });
        let u = unparker();
        let stray_done = Arc::new(AtomicUsize::new(0));
        let sd = stray_done.clone();
        let stray = thread::spawn(move || {
            u.unpark();
            sd.fetch_add(1, Release);
        });
        let tag = w.wait(WaitReason::Park, || {});
        assert_eq!(tag, 5);
        assert_eq!(w.done_tag(), Some(5));
        // SAFETY: the claimer wrote the slot before waking us; it is done.
        assert_eq!(slot.with(|p| unsafe { *p }), 42);
        // Reuse the record at once, as a returning goroutine's frame is.
        w = Waiter::new();
        // loom 0.7 aborts when a thread blocked in `join` is unparked
        // (loom#249): let the stray unpark finish before joining anyone.
        while stray_done.load(Acquire) == 0 {
            thread::yield_now();
        }
        stray.join().unwrap();
        claimer.join().unwrap();
        assert!(
            !w.is_claimed(),
            "the claimer wrote to the record after DONE"
        );
    });
}

/// select's claim across cases: one wait record shared by three queue
/// entries (three channels' cases), claimed from three threads at once.
/// Exactly one claim wins; the owner returns the winner's tag and sees the
/// winner's value; the losers never wake it.
#[test]
fn select_one_waiter_three_claimers_exactly_one_wins() {
    model(2, || {
        let slots: Arc<[loom::cell::UnsafeCell<u32>; 3]> =
            Arc::new(std::array::from_fn(|_| loom::cell::UnsafeCell::new(0)));
        let wins = Arc::new(AtomicUsize::new(0));
        let w = Waiter::new();
        let wp = Ptr(&w as *const Waiter);
        let claimers: Vec<_> = (0..3)
            .map(|case| {
                let (slots, wins) = (slots.clone(), wins.clone());
                thread::spawn(move || {
                    let w = wp;
                    // SAFETY: the record lives until the owner has joined
                    // us; a won claim is woken once.
                    unsafe {
                        if (*w.0).try_claim(case) {
                            wins.fetch_add(1, Relaxed);
                            slots[case].with_mut(|p| *p = 100 + case as u32);
                            Waiter::wake(w.0);
                        }
                    }
                })
            })
            .collect();
        let won = w.wait(WaitReason::Select, || {});
        // SAFETY: the winner wrote its slot before waking us; losers never do.
        assert_eq!(slots[won].with(|p| unsafe { *p }), 100 + won as u32);
        for c in claimers {
            c.join().unwrap();
        }
        assert_eq!(wins.load(Relaxed), 1);
    });
}

// ---------------------------------------------------------------------------
// waitq: the sync wait queue

/// Two waiters queue under the queue lock and wait, the commit releasing
/// the lock (as `Sema::acquire` does); a waker pops each under the lock
/// and wakes it after unlocking, with WOKEN then HANDOFF. Each waiter
/// returns exactly once, with what its waker gave it, and the waker reads
/// the node (its weight) only while it is queued or popped-not-woken.
#[test]
fn wait_queue_push_pop_wake() {
    model(2, || {
        let q: Arc<Mutex<VecDeque<NodePtr>>> = Arc::new(Mutex::new(VecDeque::new()));
        let got = Arc::new(AtomicUsize::new(0));
        let waiter = |q: Arc<Mutex<VecDeque<NodePtr>>>, got: Arc<AtomicUsize>, weight| {
            move || {
                let node = WaitNode::new(weight);
                let mut g = q.lock().unwrap();
                g.push_back(node.ptr());
                let how = node.wait(move || drop(g));
                assert!(how == WOKEN || how == HANDOFF);
                got.fetch_add(how as usize, Relaxed);
            }
        };
        let other = thread::spawn(waiter(q.clone(), got.clone(), 2));
        let q2 = q.clone();
        let waker = thread::spawn(move || {
            let mut woken = 0;
            while woken < 2 {
                let popped = q2.lock().unwrap().pop_front();
                match popped {
                    Some(p) => {
                        // SAFETY: popped under the queue lock: ours alone
                        // until woken, once.
                        unsafe {
                            assert!(p.weight() == 1 || p.weight() == 2);
                            p.wake(if woken == 0 { WOKEN } else { HANDOFF });
                        }
                        woken += 1;
                    }
                    None => thread::yield_now(),
                }
            }
        });
        waiter(q.clone(), got.clone(), 1)();
        other.join().unwrap();
        waker.join().unwrap();
        assert_eq!(got.load(Relaxed), (WOKEN + HANDOFF) as usize);
        assert!(q.lock().unwrap().is_empty());
    });
}

// ---------------------------------------------------------------------------
// sched/idle.rs + worker::give_up_p: the wakep/idle handshake

/// The world the handshake runs in: a global run queue (a count of
/// queued goroutines) and how many were run.
struct World {
    idle: Idle<u8>,
    global: AtomicUsize,
    ran: AtomicUsize,
    nprocs: usize,
    /// For the sysmon model: each goroutine run waits, on its P, until
    /// sysmon has seen a P running (`Watch`); `None` elsewhere.
    watch: Option<Watch>,
}

/// A goroutine that never yields on its own, until sysmon's pass sees it
/// (a retake, a netpoll): (it runs, sysmon saw it) under the lock.
#[derive(Default)]
struct Watch {
    state: Mutex<(bool, bool)>,
    cv: Condvar,
}

impl Watch {
    /// The goroutine runs on its P until sysmon has seen it.
    fn run(&self) {
        let mut st = self.state.lock().unwrap();
        st.0 = true;
        while !st.1 {
            st = self.cv.wait(st).unwrap();
        }
    }

    /// sysmon's pass: `true` if it saw the goroutine running.
    fn pass(&self) -> bool {
        let mut st = self.state.lock().unwrap();
        st.1 = st.0;
        self.cv.notify_all();
        st.1
    }
}

impl World {
    fn new(idle_ps: Vec<u8>, nprocs: usize) -> Arc<World> {
        Arc::new(World {
            idle: Idle::new(idle_ps),
            global: AtomicUsize::new(0),
            ran: AtomicUsize::new(0),
            nprocs,
            watch: None,
        })
    }

    /// Takes a goroutine from the global queue, if any.
    fn take(&self) -> bool {
        let mut n = self.global.load(Acquire);
        while n > 0 {
            match self.global.compare_exchange(n, n - 1, AcqRel, Acquire) {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }
}

/// A submitter: queue a goroutine, then `wakep`; a P it is handed runs on
/// a new M (a new thread), which starts out spinning.
fn submit(w: &Arc<World>) -> Option<thread::JoinHandle<()>> {
    w.global.fetch_add(1, Release);
    let (p, t) = w.idle.wakep()?;
    SysmonSleep::wake(); // start_m_locked: sysmon::wake(rt)
    let w = w.clone();
    Some(thread::spawn(move || m_loop(&w, p, Some(t))))
}

/// An M holding `p`: run what it finds, then give the P up (`worker`'s
/// `find_runnable` tail), retrying while the handshake says so. A spinner
/// that finds work stops spinning and, if it was the last, calls `wakep`
/// (Go's `resetspinning`).
fn m_loop(w: &Arc<World>, mut p: u8, mut spinning: Option<Spin>) {
    let mut started = Vec::new();
    loop {
        while w.take() {
            if let Some(t) = spinning.take() {
                if w.idle.stop_spinning(t) {
                    if let Some((p2, t2)) = w.idle.wakep() {
                        let w = w.clone();
                        started.push(thread::spawn(move || m_loop(&w, p2, Some(t2))));
                    }
                }
            }
            w.ran.fetch_add(1, Relaxed);
            if let Some(watch) = &w.watch {
                watch.run();
            }
        }
        let queued = || w.global.load(SeqCst) > 0;
        match w
            .idle
            .give_up_p(p, spinning.take(), w.nprocs, queued, queued)
        {
            Some((p2, t2)) => {
                p = p2;
                spinning = t2;
            }
            None => break,
        }
    }
    for s in started {
        s.join().unwrap();
    }
}

/// `sysmon::run`, one pass per iteration, until a pass sees the watched
/// goroutine running: it deep-sleeps when a pass finds every P idle.
fn sysmon_until_seen(w: &World) {
    loop {
        let seen = SysmonSleep::pokes(); // pokes = s.pokes()
        if w.watch.as_ref().unwrap().pass() {
            return; // retake(..), sysmon_poll(): it runs, and we see it
        }
        if w.idle.idle_ps() == w.nprocs {
            // all_idle (and quiet): the deep sleep
            SysmonSleep::deep_sleep(seen, || w.idle.idle_ps() == w.nprocs);
        } else {
            thread::yield_now(); // doze(..)
        }
    }
}

/// As below, for an M that takes the idle P for itself outside the
/// handshake: the timer-role M whose timers are due (`stopm`), or a
/// `blocking()` call returning, both through `Idle::take_idle_p`. It runs
/// a goroutine until sysmon's pass sees it: sysmon's deep sleep, begun
/// while the P was idle, is cut short by `take_idle_p`'s wake. (Without
/// it, loom reports the deadlock.)
#[test]
fn sysmon_awake_when_an_m_takes_the_idle_p() {
    model(3, || {
        let mut w = World::new(vec![0], 1);
        Arc::get_mut(&mut w).unwrap().watch = Some(Watch::default());
        let w2 = w.clone();
        let m = thread::spawn(move || {
            let p = w2.idle.take_idle_p().expect("nobody else takes it");
            w2.watch.as_ref().unwrap().run();
            w2.idle.put_p(p);
        });
        sysmon_until_seen(&w);
        m.join().unwrap();
    });
}

/// sysmon's deep sleep against an M taking a P back (`sched::sysmon`'s
/// `Sysmon::deep_sleep`, `Idle::give_up_p`'s second look, which takes the
/// P through `Idle::take_idle_p`). sysmon sleeps for good only while every
/// P is idle: it alone polls the netpoller, retakes Ps and fires late
/// timers while a P runs a goroutine that never gets to a scheduling
/// point. Here the M (one P, not spinning) finds nothing and gives up its
/// P while a plain thread queues a goroutine and calls `wakep`; the
/// goroutine then runs on the M's P or on a P the submitter's `wakep`
/// hands out (`start_m_locked` wakes sysmon), and runs until sysmon's
/// pass sees it. sysmon passes, and deep-sleeps when a pass finds every P
/// idle. However the three interleave, sysmon sees the goroutine: its
/// deep sleep is cut short by the wake of whoever took the P. (Before
/// `take_idle_p` woke sysmon, the M's second look took its P back with
/// no wake, and sysmon slept on beside a running P: loom reports the
/// deadlock.)
#[test]
fn sysmon_awake_while_a_p_runs() {
    model(3, || {
        let mut w = World::new(vec![], 1);
        Arc::get_mut(&mut w).unwrap().watch = Some(Watch::default());
        let w2 = w.clone();
        let m = thread::spawn(move || m_loop(&w2, 0, None));
        let w2 = w.clone();
        let sysmon = thread::spawn(move || sysmon_until_seen(&w2));
        let started = submit(&w);
        m.join().unwrap();
        if let Some(s) = started {
            s.join().unwrap();
        }
        sysmon.join().unwrap();
        assert_eq!(w.ran.load(Relaxed), 1, "the goroutine never ran");
    });
}

// ---------------------------------------------------------------------------
// sched/idle.rs: the timer role (who wakes for the next timer)
//
// The lists and the role flags are the real `Idle` (`push_sleeper`,
// `pick_sleeper`, `leave_when_due`, `role_holder`, `take_idle_p`); each M is
// a loom thread playing `stopm`/`sleep` around them, line for line, with a
// hand-off slot of the model's own (a P here is a `u8`). A timer stays
// pending throughout. The invariant (`Roles::check`, read under the idle
// lock): while no M runs a P and some M sleeps, exactly one sleeping M
// holds the role and it is the holder on record — never a pending timer
// that no sleeper wakes for. An M counts as running from when it has a P
// until it is back on the list (it takes the role in `stopm` if nobody
// holds it).

/// A P handed to an M, with the spinning token if it starts out spinning.
type Handed = (u8, Option<Spin>);

/// An M's hand-off slot: a P handed to it, or the end of the model.
#[derive(Default)]
struct RoleSlot {
    slot: Mutex<(Option<Handed>, bool)>,
    cv: Condvar,
}

/// The timer-role model's world: the idle lists (maxprocs 1), Ms 1 to 3,
/// their slots, and how many Ms run a P.
struct Roles {
    idle: Idle<u8>,
    ms: [Sleeper; 3],
    slots: [RoleSlot; 3],
    running: AtomicUsize,
}

impl Roles {
    /// The invariant (see above).
    fn check(&self) {
        let (sleepers, holder) = self.idle.roles();
        for m in &self.ms {
            assert!(
                !m.holds_role() || holder == Some(m.id()),
                "M{} holds the timer role, but the holder on record is {holder:?}",
                m.id()
            );
        }
        if self.running.load(SeqCst) == 0 && !sleepers.is_empty() {
            assert!(
                sleepers
                    .iter()
                    .any(|&(id, role)| role && holder == Some(id)),
                "a timer is pending, no M runs a P, and no sleeping M holds the \
                 timer role: sleepers {sleepers:?}, holder {holder:?}"
            );
        }
    }

    /// M `id` runs `p` (handed to it, or taken for due timers), then gives
    /// it back and goes to sleep (`stopm`).
    fn run(&self, id: usize, p: u8, spinning: Option<Spin>) {
        self.running.fetch_add(1, SeqCst);
        if let Some(t) = spinning {
            let _ = self.idle.stop_spinning(t); // found work
        }
        self.check();
        self.idle.put_p(p); // give_up_p: nothing more to run
        self.idle.push_sleeper(&self.ms[id - 1]); // stopm
        self.running.fetch_sub(1, SeqCst);
        self.check();
    }

    /// M `id` asleep (`sleep`'s wait): until handed a P, or the model ends.
    fn sleep(&self, id: usize) {
        let s = &self.slots[id - 1];
        loop {
            let mut slot = s.slot.lock().unwrap();
            while slot.0.is_none() && !slot.1 {
                slot = s.cv.wait(slot).unwrap();
            }
            let Some((p, t)) = slot.0.take() else { return };
            drop(slot);
            self.run(id, p, t);
        }
    }

    /// `MHandle::hand`.
    fn hand(&self, id: usize, p: u8, t: Option<Spin>) {
        let s = &self.slots[id - 1];
        s.slot.lock().unwrap().0 = Some((p, t));
        s.cv.notify_one();
    }

    /// M `id`'s deadline passes (`sleep`'s due path, then `stopm`).
    fn due(&self, id: usize) {
        let me = &self.ms[id - 1];
        let role = me.holds_role(); // handle.timer_role.load(..)
        match self.idle.leave_when_due(me, role, 1) {
            // The M the role passed to is notified: it re-reads its role
            // (it holds it already, as `check` sees).
            Due::Timers(_next) => {
                self.check(); // off the list, firing the due timers
                match self.idle.take_idle_p() {
                    Some(p) => self.run(id, p, None), // Some(Wake { p, .. })
                    None => {
                        // fire_timers(), then stopm's loop: back on the list
                        self.idle.push_sleeper(me);
                        self.check();
                    }
                }
                self.sleep(id);
            }
            Due::Exit(_next) => self.check(), // the thread exits
            Due::Handed | Due::Needed => self.sleep(id),
        }
    }
}

/// The timer role changes hands while Ms come and go. M1 sleeps with the
/// role and M2 without it (both in `stopm`; two Ms for one P, so M2 may
/// exit when idle too long). Each one's deadline passes at once: M1's
/// timer is due (it leaves the list to fire it, passing the role to M2,
/// and takes the idle P if it is still there), M2's idle-exit deadline
/// (it exits, or, if it was given the role meanwhile, fires timers too).
/// Meanwhile a plain thread queues work and `wakep`s: the P goes to a
/// sleeping M without the role if there is one (`start_m_locked`), else
/// to a new M 3 (the thread plays it); then it adds an earlier timer
/// (`timers_changed`: the role holder, given the role if nobody had it).
/// At every step a sleeping M holds the role whenever no M runs a P, and
/// no two Ms hold it. (With `release_timer_role` not passing the role on,
/// M2 sleeps without it while M1 fires timers off the list, and a timer
/// due meanwhile had nobody to wake for it: the check fails.)
#[test]
fn timer_role_always_held_while_no_p_runs() {
    model(3, || {
        let w = Arc::new(Roles {
            idle: Idle::new(vec![0]),
            ms: [Sleeper::new(1), Sleeper::new(2), Sleeper::new(3)],
            slots: Default::default(),
            running: AtomicUsize::new(0),
        });
        for m in &w.ms[..2] {
            assert_eq!(w.idle.count_new_m(), m.id());
            w.idle.push_sleeper(m);
        }
        assert!(w.ms[0].holds_role() && !w.ms[1].holds_role());
        w.check();
        let ms: Vec<_> = [1, 2]
            .map(|id| {
                let w = w.clone();
                thread::spawn(move || w.due(id))
            })
            .into();
        // A goroutine queued: `wakep`, then `start_m_locked`.
        if let Some((p, t)) = w.idle.wakep() {
            match w.idle.pick_sleeper() {
                Some((id, _next)) => w.hand(id, p, Some(t)),
                None => {
                    let id = w.idle.count_new_m(); // spawn_m(id, ..)
                    w.run(id, p, Some(t));
                }
            }
        }
        w.idle.role_holder(); // timers_changed
        w.check();
        for s in &w.slots {
            s.slot.lock().unwrap().1 = true;
            s.cv.notify_one();
        }
        for m in ms {
            m.join().unwrap();
        }
        w.check();
        assert_eq!(w.idle.idle_ps(), 1, "the P was lost");
        assert_eq!(w.idle.spinning(), 0);
    });
}

/// An M that found nothing gives up its P — spinning, so it drops the
/// token, fences and re-checks every queue — while a plain thread queues a
/// goroutine and calls `wakep`. Either the submitter sees the idle P and
/// no spinner and starts an M, or the M sees the work and takes a P back:
/// the goroutine always runs, and in the end every P is idle again and
/// nobody counts as spinning.
#[test]
fn wakep_vs_spinning_m_giving_up_p_no_lost_wakeup() {
    model(3, || {
        let w = World::new(vec![], 1);
        let t = w.idle.try_spin(1).expect("one busy P allows a spinner");
        let w2 = w.clone();
        let m = thread::spawn(move || m_loop(&w2, 0, Some(t)));
        let started = submit(&w);
        m.join().unwrap();
        if let Some(s) = started {
            s.join().unwrap();
        }
        assert_eq!(w.ran.load(Relaxed), 1, "the goroutine never ran");
        assert_eq!(w.idle.idle_ps(), 1);
        assert_eq!(w.idle.spinning(), 0);
    });
}

/// As above with a non-spinning M (it re-checks only the global queue,
/// where a plain thread's work goes), and two Ps: one idle from the start.
#[test]
fn wakep_vs_non_spinning_m_giving_up_p_no_lost_wakeup() {
    model(3, || {
        let w = World::new(vec![1], 2);
        let w2 = w.clone();
        let m = thread::spawn(move || m_loop(&w2, 0, None));
        let started = submit(&w);
        m.join().unwrap();
        if let Some(s) = started {
            s.join().unwrap();
        }
        assert_eq!(w.ran.load(Relaxed), 1, "the goroutine never ran");
        assert_eq!(w.idle.idle_ps(), 2);
        assert_eq!(w.idle.spinning(), 0);
    });
}

/// A spinning M whose P sysmon retook while a timer callback ran on it (a
/// blocking section: `sysmon::retake_from`, then `idle::handoff_p`) finds
/// its P slot empty (`worker::give_up_p`), while a plain thread queues a
/// goroutine and calls `wakep`. The retake hands the P to an M at once if
/// the global queue has work, else puts it on the idle list and calls
/// `wakep`. Both `wakep`s may see the M's spinning token and leave the work
/// to it, so the M must drop the token, fence and look once more
/// (`Idle::spinner_lost_p`): the goroutine always runs, and in the end the
/// P is idle and nobody spins. (An M that just dropped its token and slept,
/// as before 0af0673, stranded the goroutine: this model fails on that.)
/// The retake may also come too late (the M finds its P and gives it up as
/// usual). A thread handed a P plays the new M itself: it has nothing else
/// to do, and that keeps the model at three loom threads.
#[test]
fn spinner_losing_p_to_retake_no_lost_wakeup() {
    model(3, || {
        let w = World::new(vec![], 1);
        let t = w.idle.try_spin(1).expect("one busy P allows a spinner");
        // The M's P slot (`MShared::p`), which sysmon may empty.
        let slot = Arc::new(Mutex::new(Some(0u8)));
        let queued = |w: &World| w.global.load(SeqCst) > 0;
        let (w2, slot2) = (w.clone(), slot.clone());
        let sysmon = thread::spawn(move || {
            let retaken = slot2.lock().unwrap().take();
            let Some(p) = retaken else { return };
            // `handoff_p`: to an M at once if there is work, else idle.
            if queued(&w2) {
                m_loop(&w2, p, None);
            } else {
                w2.idle.put_p(p);
                if let Some((p, t)) = w2.idle.wakep() {
                    m_loop(&w2, p, Some(t));
                }
            }
        });
        let (w2, slot2) = (w.clone(), slot.clone());
        let m = thread::spawn(move || {
            // Out of the blocking section: still holding the P?
            let mine = slot2.lock().unwrap().take();
            match mine {
                Some(p) => m_loop(&w2, p, Some(t)),
                None => {
                    if w2.idle.spinner_lost_p(t, || queued(&w2)) {
                        if let Some((p, t)) = w2.idle.wakep() {
                            m_loop(&w2, p, Some(t));
                        }
                    }
                }
            }
        });
        // A plain thread readies a goroutine.
        w.global.fetch_add(1, Release);
        if let Some((p, t)) = w.idle.wakep() {
            m_loop(&w, p, Some(t));
        }
        sysmon.join().unwrap();
        m.join().unwrap();
        assert_eq!(w.ran.load(Relaxed), 1, "the goroutine never ran");
        assert_eq!(w.idle.idle_ps(), 1);
        assert_eq!(w.idle.spinning(), 0);
    });
}

// ---------------------------------------------------------------------------
// sched/pcell.rs: the P slot's spin lock

/// The owner M and sysmon each take the P slot twice and update what it
/// holds: the owner's flag and sysmon's exclude each other (loom's cell
/// checks every access) and no update is lost. (Loom has no membarrier:
/// both sides fence with `SeqCst`, which is what membarrier gives the
/// owner; without the owner's fence this model fails.)
#[test]
fn p_slot_spin_lock_excludes() {
    model(3, || {
        let cell = Arc::new(SpinCell::new((0u32, 0u32)));
        let c2 = cell.clone();
        let sysmon = thread::spawn(move || {
            for _ in 0..2 {
                c2.with_remote(|v| v.1 += 1);
            }
        });
        for _ in 0..2 {
            cell.with(|v| v.0 += 1);
        }
        sysmon.join().unwrap();
        assert_eq!(cell.with(|v| *v), (2, 2));
    });
}

// ---------------------------------------------------------------------------
// g::Life: who recycles the record, who drops the result
//
// These models assert the order of events, not only their counts: a party
// that touches the record (its result slot, its joiner slot, its `Life`
// word) after the record was recycled fails the model. `Record::recycle`
// does what a recycle and the next spawn on the record do (it writes both
// slots and resets the words): loom reports any access to a slot it
// cannot order before that write, and a late `Life` transition leaves the
// new incarnation's word dirty (`Record::is_fresh`).

loom::thread_local! {
    /// Set while a thread plays the goroutine's M after the switch (no
    /// goroutine is current there: a result dropped then could not park).
    static ON_M: std::cell::Cell<bool> = std::cell::Cell::new(false);
}

/// A result that counts its drops, and checks where it is dropped.
struct Res(Arc<AtomicUsize>);

impl Drop for Res {
    fn drop(&mut self) {
        assert!(
            !ON_M.with(|m| m.get()),
            "an orphaned result was dropped by the M, outside its goroutine"
        );
        self.0.fetch_add(1, Relaxed);
    }
}

/// One recycle at most (`Record::recycle` panics on a second), counted.
fn recycle(rec: &Record, recycles: &AtomicUsize) {
    rec.recycle();
    recycles.fetch_add(1, Relaxed);
}

/// An `Unparker` lets go; the caller recycles if it was the last.
fn drop_unparker(rec: &Record, recycles: &AtomicUsize) {
    if rec.drop_ext_ref() {
        recycle(rec, recycles);
    }
}

/// Every model's end: the record recycled once and left alone after, the
/// result dropped once.
fn assert_done(rec: &Record, recycles: &AtomicUsize, drops: &AtomicUsize) {
    assert_eq!(recycles.load(Relaxed), 1, "never recycled");
    assert_eq!(drops.load(Relaxed), 1, "the result dropped twice, or never");
    assert!(rec.is_fresh(), "a transition came after the recycle");
}

/// The goroutine's end and its M's exit (`spawn::body`, `worker::exit_g`):
/// the result handed over or, orphaned, dropped by the goroutine itself;
/// then the M lets go of the record. Returns whether a joiner was woken.
fn finish(rec: &Record, result: Res, recycles: &AtomicUsize) -> bool {
    // SAFETY: once each, in order, by the goroutine and then its M.
    unsafe {
        if let Some(orphan) = rec.end_body(result) {
            drop(orphan); // on the goroutine's stack
        }
        ON_M.with(|m| m.set(true));
        let (joiner, recycle_it) = rec.exit();
        if joiner {
            rec.wake_joiner();
        }
        ON_M.with(|m| m.set(false));
        if recycle_it {
            recycle(rec, recycles);
        }
        joiner
    }
}

/// The goroutine finishing (and its M exiting), its `JoinHandle` dropped
/// unjoined and the last public `Unparker` letting go, all at once
/// (issue 26's use-after-free: the handle used to let go first and read
/// the result after, while the Unparker's drop recycled the record). No
/// party touches the record after it is recycled; it is recycled exactly
/// once; the result is dropped exactly once — by the handle if the
/// goroutine finished first, else by the goroutine on its own stack,
/// never by its M.
#[test]
fn life_finish_vs_drop_handle_vs_unparker() {
    model(3, || {
        let rec = Arc::new(Record::new());
        rec.add_ext_ref(); // an Unparker names the goroutine
        let drops = Arc::new(AtomicUsize::new(0));
        let recycles = Arc::new(AtomicUsize::new(0));
        let (r, d, c) = (rec.clone(), drops.clone(), recycles.clone());
        let goroutine = thread::spawn(move || {
            assert!(!finish(&r, Res(d), &c), "a joiner without a join");
        });
        let (r, c) = (rec.clone(), recycles.clone());
        let unparker = thread::spawn(move || drop_unparker(&r, &c));
        // The handle, dropped unjoined (`JoinHandle::drop`).
        // SAFETY: the handle's one use; the result is a `Res`.
        let (result, recycle_it) = unsafe { rec.drop_handle::<Res>() };
        if recycle_it {
            recycle(&rec, &recycles);
        }
        drop(result);
        goroutine.join().unwrap();
        unparker.join().unwrap();
        assert_done(&rec, &recycles, &drops);
    });
}

/// The orphan path: the handle is gone before the goroutine ends, and the
/// last `Unparker` lets go while the goroutine drops its own result and
/// its M exits. The result is dropped once, by the goroutine (never by
/// the M); the record is recycled once, after both the drop and the M's
/// exit, by whichever of the M and the `Unparker` is last.
#[test]
fn life_orphaned_result_vs_unparker() {
    model(4, || {
        let rec = Arc::new(Record::new());
        rec.add_ext_ref();
        let drops = Arc::new(AtomicUsize::new(0));
        let recycles = Arc::new(AtomicUsize::new(0));
        // SAFETY: the handle's one use; nothing finished, nothing returned.
        let (none, recycle_it) = unsafe { rec.drop_handle::<Res>() };
        assert!(none.is_none() && !recycle_it);
        let (r, d, c) = (rec.clone(), drops.clone(), recycles.clone());
        let goroutine = thread::spawn(move || {
            finish(&r, Res(d), &c);
        });
        drop_unparker(&rec, &recycles);
        goroutine.join().unwrap();
        assert_done(&rec, &recycles, &drops);
    });
}

/// A joiner (`JoinHandle::join`) against the goroutine's end and its M's
/// exit, with the last `Unparker` letting go meanwhile: the joiner either
/// finds the goroutine finished or parks on its wait record and is woken
/// exactly once, by the M; it takes the result exactly once; nobody
/// touches the record after it is recycled, and it is recycled once (by
/// the last of the joiner, the M and the `Unparker`).
#[test]
fn life_join_vs_finish_vs_unparker() {
    model(3, || {
        let rec = Arc::new(Record::new());
        rec.add_ext_ref();
        let drops = Arc::new(AtomicUsize::new(0));
        let recycles = Arc::new(AtomicUsize::new(0));
        let (r, d, c) = (rec.clone(), drops.clone(), recycles.clone());
        let goroutine = thread::spawn(move || finish(&r, Res(d), &c));
        let (r, c) = (rec.clone(), recycles.clone());
        let unparker = thread::spawn(move || drop_unparker(&r, &c));
        // `JoinHandle::join`.
        let mut waited = false;
        if !rec.is_finished() {
            let w = Waiter::new();
            // SAFETY: the one joiner; `w` stays here until woken.
            if unsafe { rec.announce_joiner(&w) } {
                w.wait(WaitReason::Join, || {});
                waited = true;
            }
        }
        // SAFETY: finished (seen above, or by the wait's DONE); a `Res`.
        let (result, recycle_it) = unsafe { rec.take_joined::<Res>() };
        if recycle_it {
            recycle(&rec, &recycles);
        }
        drop(result);
        let woke = goroutine.join().unwrap();
        unparker.join().unwrap();
        assert_eq!(woke, waited, "a joiner woken without waiting, or never");
        assert_done(&rec, &recycles, &drops);
    });
}

// ---------------------------------------------------------------------------
// netpoll/handoff.rs with sched/idle.rs's sleep: who sleeps in epoll_wait,
// and the eventfd break
//
// The hand-off words and their transitions are the real `Handoff`; the
// parties' sequences around them are miniatures of the real code, line for
// line (each line names what it stands for). The kernel (the eventfd, the
// epoll instance) is a lock and a condvar, as the kernel makes its own
// steps atomic. Time does not pass: a sleeper whose deadline is early
// enough for the timer it waits for stops (it would wake in time); any
// other sleeper blocks until the eventfd breaks it, so a lost break leaves
// it asleep past the timer.
//
// The order fact every model asserts (`Kern::check`): once an adder that
// found its timer the earliest has returned, an M blocked in `epoll_wait` with a deadline later than that
// timer has a break pending (the eventfd is readable, or a waker has
// claimed the write). It is checked by
// the adder as it returns and by the sleeper each time it blocks or is
// woken, under the kernel's lock. And at most one M is ever blocked in
// `epoll_wait`.

/// No timer pending (`timer::NONE`).
const NEVER: u64 = u64::MAX;

/// What the kernel holds: the eventfd's state and who is blocked in
/// `epoll_wait`, plus what the assertions compare with.
struct Kern {
    /// The eventfd is readable (written, not drained).
    eventfd: bool,
    /// The M blocked in `epoll_wait`, with the deadline it blocked for.
    blocked: Option<(usize, u64)>,
    /// The earliest timer whose adder found it the earliest and returned.
    added: u64,
}

impl Kern {
    /// The order fact (see above). A break is pending when the eventfd is
    /// readable, or a waker has claimed the write (`wake_sig`) and is about
    /// to make it; a claimed write never made leaves the sleeper blocked
    /// for good, which loom reports.
    fn check(&self, h: &PollHandoff) {
        if let Some((m, deadline)) = self.blocked {
            assert!(
                deadline <= self.added || self.eventfd || h.break_pending(),
                "M{m} sleeps in epoll_wait until {deadline}, past a timer at {} \
                 whose adder has returned, and no break is pending",
                self.added
            );
        }
    }
}

/// An M's hand-off slot (`idle::MHandle`: `slot`, `cv`).
#[derive(Default)]
struct MSlot {
    /// Handed a P (`slot: Some(Wake)`).
    p: Mutex<bool>,
    cv: Condvar,
}

/// The world of the netpoll models: the hand-off words, the kernel, the
/// timer heap's earliest deadline and two Ms' slots (M ids 1 and 2).
struct Poll {
    h: PollHandoff,
    kern: Mutex<Kern>,
    kern_cv: Condvar,
    /// The heap's earliest deadline, under the heap lock (`timer::Heap`).
    heap: Mutex<u64>,
    /// `Timers::next`: the earliest deadline, readable without the lock.
    next: AtomicU64,
    ms: [MSlot; 2],
}

/// How a timer-role M's sleep ended.
#[derive(Debug, PartialEq)]
enum Woke {
    /// Handed a P (`Slept::Woken`).
    Handed,
    /// Its deadline is early enough for the timer it waits for.
    InTime,
}

impl Poll {
    fn new(earliest: u64) -> Arc<Poll> {
        Arc::new(Poll {
            h: PollHandoff::new(),
            kern: Mutex::new(Kern {
                eventfd: false,
                blocked: None,
                added: NEVER,
            }),
            kern_cv: Condvar::new(),
            heap: Mutex::new(earliest),
            next: AtomicU64::new(earliest),
            ms: Default::default(),
        })
    }

    fn m(&self, m: usize) -> &MSlot {
        &self.ms[m - 1]
    }

    /// `EventFd::signal`.
    fn signal(&self) {
        let mut k = self.kern.lock().unwrap();
        k.eventfd = true;
        self.kern_cv.notify_all();
    }

    /// `EventFd::drain`.
    fn drain(&self) {
        self.kern.lock().unwrap().eventfd = false;
    }

    /// `Epoll::wait` for M `m` until `deadline`, which never comes: returns
    /// when the eventfd is readable (`true`: it is among the events).
    fn epoll_wait(&self, m: usize, deadline: u64) -> bool {
        let mut k = self.kern.lock().unwrap();
        assert!(k.blocked.is_none(), "two Ms blocked in epoll_wait");
        k.blocked = Some((m, deadline));
        loop {
            k.check(&self.h);
            if k.eventfd {
                break;
            }
            k = self.kern_cv.wait(k).unwrap();
        }
        k.blocked = None;
        true
    }

    /// `netpoll::wake_m`.
    fn wake_m(&self, m: usize) {
        if self.h.must_signal(m) {
            self.signal();
        }
    }

    /// `MHandle::notify`: under the slot lock, the condvar, then `wake_m`.
    fn notify(&self, m: usize) {
        let me = self.m(m);
        let _slot = me.p.lock().unwrap();
        me.cv.notify_one();
        self.wake_m(m);
    }

    /// `MHandle::hand`: the slot, unlock, the condvar, then `wake_m`.
    fn hand(&self, m: usize) {
        let me = self.m(m);
        *me.p.lock().unwrap() = true;
        me.cv.notify_one();
        self.wake_m(m);
    }

    /// `Timers::add` then `idle::timers_changed` (which notifies the role
    /// holder, `holder`), and the order fact as the adder returns.
    fn add_timer(&self, when: u64, holder: usize) {
        let earlier = {
            let mut heap = self.heap.lock().unwrap(); // self.lock()
            let earlier = when < *heap; // when < heap.earliest()
            *heap = (*heap).min(when); // heap.push(..)
            self.next.store(*heap, SeqCst); // self.publish(&heap)
            earlier
        };
        if earlier {
            self.notify(holder); // timers_changed: holder.notify()
                                 // An adder whose timer was not the earliest owes no break: the
                                 // adder of the earlier one does.
            let mut k = self.kern.lock().unwrap();
            k.added = k.added.min(when);
            k.check(&self.h);
        }
    }

    /// A timer-role M with a P idle asleep (`idle::sleep`, the
    /// `role && idle_p` path, with `netpoll::sleep`), until it is handed a
    /// P or its deadline is at most `in_time`. `holder`: the role holder
    /// it wakes if the poll was wanted.
    fn role_sleep(&self, m: usize, in_time: u64, holder: usize) -> Woke {
        let me = self.m(m);
        let mut slot = me.p.lock().unwrap(); // handle.slot.lock()
        loop {
            if *slot {
                return Woke::Handed; // slot.take(): Slept::Woken
            }
            let deadline = self.next.load(SeqCst); // timer::next_deadline()
            if deadline <= in_time {
                return Woke::InTime; // epoll_wait would time out in time
            }
            if self.h.claim(m) {
                // netpoll::claim_poll, then netpoll::sleep:
                drop(slot); // drop(slot)
                let broken = self.epoll_wait(m, deadline); // p.epoll.wait(..)
                self.h.back(broken, || self.drain()); // handoff().back(..)
                if self.h.take_wanted() {
                    self.notify(holder); // timers_changed(..)
                }
                slot = me.p.lock().unwrap(); // lock.lock()
            } else {
                slot = me.cv.wait(slot).unwrap(); // handle.cv.wait(slot)
            }
        }
    }

    /// A timer-role M whose deadline is far off (`idle::sleep`, the
    /// `role && idle_p` path): its loop up to the moment it may block in
    /// `epoll_wait`, where it ends (what happens there is the other models'
    /// business). It sleeps on its condvar while another M holds the poll.
    fn sleep_until_polling(&self, m: usize) {
        let me = self.m(m);
        let mut slot = me.p.lock().unwrap(); // handle.slot.lock()
        while !self.h.claim(m) {
            // netpoll::claim_poll failed: the else branch,
            slot = me.cv.wait(slot).unwrap(); // handle.cv.wait(slot)
        }
    }
}

/// The timer-role M sleeps in `epoll_wait` until the earliest timer (at
/// 10) while two goroutines add earlier timers (at 5 and 7): each adder
/// that finds its timer the earliest breaks the sleeper out through the
/// eventfd — once it has returned, the sleeper is either not blocked, or
/// blocked with a deadline no later than its timer, or about to be broken
/// — and the sleeper ends with a deadline no later than 5. With the two
/// breaks coalesced by `wake_sig`, a break the sleeper consumed never
/// hides a later one (a lost break fails the order fact, or loom reports
/// the sleeper blocked for good).
#[test]
fn netpoll_break_never_lost_on_earlier_timer() {
    model(3, || {
        let w = Poll::new(10);
        let w2 = w.clone();
        let sleeper = thread::spawn(move || w2.role_sleep(1, 5, 1));
        let w2 = w.clone();
        let adder = thread::spawn(move || w2.add_timer(7, 1));
        w.add_timer(5, 1);
        adder.join().unwrap();
        assert_eq!(sleeper.join().unwrap(), Woke::InTime);
    });
}

/// The poll changes hands. M1 sleeps in `epoll_wait` and M2 holds the timer
/// role (it took it over, or will: it may find M1 still polling, and then
/// sleeps on its condvar until M1 leaves). A waker hands M1 a P (a break
/// for M1, `start_m_locked`), notifies M2 (its new role), then a goroutine
/// adds an earlier timer, which must reach M2. M1 ends handed its P; M2
/// ends in `epoll_wait` with a deadline in time for the timer, never two
/// Ms block there, and a break meant for M2 is never drained by M1 on its
/// way out (`Handoff::back` consumes, then leaves: in the other order, a
/// timer added between M2's claim and M1's drain was missed).
#[test]
fn netpoll_break_for_the_next_poller_is_not_drained() {
    model(3, || {
        let w = Poll::new(10);
        let w2 = w.clone();
        let m1 = thread::spawn(move || w2.role_sleep(1, 0, 2));
        let w2 = w.clone();
        let m2 = thread::spawn(move || w2.role_sleep(2, 5, 2));
        w.hand(1);
        w.notify(2);
        w.add_timer(5, 2);
        assert_eq!(m1.join().unwrap(), Woke::Handed);
        assert_eq!(m2.join().unwrap(), Woke::InTime);
    });
}

/// The poll changes hands with nothing else to wake the new holder. M1
/// sleeps in `epoll_wait`; a waker hands it a P and passes the timer role
/// to M2 (`start_m_locked`: `hand`, then `notify` the next holder), and
/// nothing happens afterwards: no timer is added, nothing notifies M2
/// again. M2 finds M1 still blocked, so it must either claim on its retry
/// or be woken by M1 as M1 leaves (`Handoff::claim` stores `poll_wanted`,
/// then retries; `back` clears `blocked_m`, then `take_wanted` reads the
/// flag). Without the retry, M1 could leave and read no flag between
/// M2's failed claim and its store, and M2 slept on its condvar for good
/// with nobody in `epoll_wait` (loom reports the deadlock).
#[test]
fn netpoll_wanted_poll_reaches_the_next_holder() {
    model(3, || {
        let w = Poll::new(10);
        let w2 = w.clone();
        let m1 = thread::spawn(move || w2.role_sleep(1, 0, 2));
        let w2 = w.clone();
        let m2 = thread::spawn(move || w2.sleep_until_polling(2));
        w.hand(1);
        w.notify(2);
        assert_eq!(m1.join().unwrap(), Woke::Handed);
        m2.join().unwrap();
    });
}
