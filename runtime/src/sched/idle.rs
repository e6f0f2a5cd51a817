//! Idle Ps, sleeping Ms and spinning: who wakes whom.
//!
//! Owns: the idle-P list, the retired-P list (Ps above `maxprocs`), the
//! sleeping-M list, and the counters `npidle` and `nmspinning`. See
//! `docs/scheduler.md` ("Sleeping and waking") for the protocol with a proof
//! sketch; in short, after Go's `wakep`/`startm`/`stopm`:
//!
//! - **Submitting work** (a spawn, an unpark, a continuation): push the G,
//!   then [`wakep`]: if some P is idle and no M is spinning, claim the single
//!   "spinner" token (`nmspinning` 0 → 1) and start an M on an idle P.
//! - **Running dry** (an M finds nothing): a spinning M gives up its P to the
//!   idle list, *then* drops its spinning token, *then* re-checks every run
//!   queue. Both sides do store-then-load with a `SeqCst` fence between, so at
//!   least one of them sees the other: either the submitter sees an idle P and
//!   no spinner and wakes an M, or the spinner sees the new work and takes a P
//!   back. No wake-up is lost.
//! - **Sleeping**: an M without a P waits on its own condvar until [`startm`]
//!   hands it a P. Idle Ms never poll: an idle runtime uses no CPU.
//! - **Timers**: one sleeping M holds the *timer role*: it sleeps only until
//!   the earliest timer deadline, then fires the due timers (taking an idle
//!   P first if there is one, so the goroutines they wake run on it).
//!   Adding an earlier timer notifies the role holder ([`timers_changed`]);
//!   when the holder is handed a P, the role passes to another sleeper.
//!   While a P is idle and goroutines wait for I/O, the holder sleeps in
//!   `epoll_wait` instead (`docs/netpoller.md`); while every P is busy it
//!   leaves the netpoller to the running Ms and sysmon and sleeps past the
//!   deadline, so an M whose P goes idle notifies it ([`stopm`],
//!   [`handoff_p`]).
//!
//! Both halves of the handshake are methods of [`Idle`]
//! ([`Idle::wakep_claim`], [`Idle::give_up_p`], and [`Idle::spinner_lost_p`]
//! for a spinning M whose P was taken), generic over what a P is, so that
//! `runtime/tests/loom.rs` model-checks this very code with loom's atomics
//! and lock (through `crate::loom`); so are the timer role's transitions
//! ([`Idle::push_sleeper`], [`Idle::pick_sleeper`], [`Idle::leave_when_due`],
//! [`Idle::role_holder`]) and [`Idle::take_idle_p`]'s wake of sysmon.
//!
//! Must never: hold `lock` while doing anything but moving Ps and Ms between
//! lists (no thread creation, no goroutine code, no unpark).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::p::POwned;
use super::{runtime, Runtime};
use crate::lockrank::{rank, Condvar, Mutex, MutexGuard}; // lockrank: ranked, loom's under loom
use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering};

/// What an M is handed when it is woken: a P, and the spinning token if it
/// starts out spinning.
pub(crate) struct Wake {
    pub p: POwned,
    pub spinning: Option<Spinning>,
}

/// The proof that an M is counted in `nmspinning` (Go's `m.spinning`): an M
/// holds one exactly while it is counted. Made only by [`Idle::try_spin`]
/// and [`Idle::claim_spinner`], given up only through
/// [`Idle::stop_spinning`] and [`Idle::drop_spinning`], so the count can
/// never drift.
#[must_use = "a spinning token must be given back to Idle"]
pub(crate) struct Spinning(());

/// Whether a transition leaves the caller owing a [`wakep`] (Go's
/// `resetspinning`: the last spinner that found work wakes another).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MustWake {
    Yes,
    No,
}

/// The part of an M other threads can reach: where to hand it a P.
pub(crate) struct MHandle {
    pub id: usize,
    slot: Mutex<Option<Wake>, { rank::M_SLOT }>,
    cv: Condvar,
    /// Whether this M, while asleep, must wake for the next timer.
    timer_role: AtomicBool,
}

/// The lists behind `Idle::lock`.
pub(crate) struct IdleState<P = POwned> {
    /// Ps nobody is running, ready to be handed out.
    ps: Vec<P>,
    /// Ps with `id >= maxprocs`, kept for when `maxprocs` grows again.
    pub retired: Vec<P>,
    /// Ms asleep, waiting for a P.
    ms: Vec<Arc<MHandle>>,
    /// Ms alive.
    nm: usize,
    /// The last M id handed out.
    next_mid: usize,
    /// The sleeping M holding the timer role, if any.
    timer_sleeper: Option<Arc<MHandle>>,
}

impl<P> IdleState<P> {
    /// The sleeping Ms' ids with their timer-role flags, and the id of the
    /// role holder on record (for the loom models).
    #[cfg(loom)]
    pub fn roles(&self) -> (Vec<(usize, bool)>, Option<usize>) {
        let ms = self.ms.iter().map(|m| (m.id, m.holds_timer_role()));
        (ms.collect(), self.timer_sleeper.as_ref().map(|m| m.id))
    }

    /// Calls `f` on every P on the idle and retired lists.
    pub fn each_p(&mut self, f: impl FnMut(&mut P)) {
        self.ps
            .iter_mut()
            .chain(self.retired.iter_mut())
            .for_each(f);
    }
}

/// Idle Ps, sleeping Ms and the spinning count: the protocol of this
/// module as one type. Every field is private; the transitions are the
/// methods. `P` is `POwned`, except in the loom models.
pub(crate) struct Idle<P = POwned> {
    lock: Mutex<IdleState<P>, { rank::IDLE }>,
    /// `lock`'s `ps.len()`, readable without the lock.
    npidle: AtomicUsize,
    /// Ms looking for work to steal (Go's `nmspinning`): the number of
    /// [`Spinning`] tokens alive.
    nmspinning: AtomicUsize,
    /// Ms asleep in `stopm`.
    nmidle: AtomicUsize,
}

impl<P> Idle<P> {
    pub fn new(ps: Vec<P>) -> Idle<P> {
        let n = ps.len();
        Idle {
            lock: Mutex::new(IdleState {
                ps,
                retired: Vec::new(),
                ms: Vec::new(),
                nm: 0,
                next_mid: 0,
                timer_sleeper: None,
            }),
            npidle: AtomicUsize::new(n),
            nmspinning: AtomicUsize::new(0),
            nmidle: AtomicUsize::new(0),
        }
    }

    /// The lists, locked: only for moving Ps and Ms between them.
    pub fn state(&self) -> MutexGuard<'_, IdleState<P>> {
        self.lock.lock()
    }

    /// Ps on the idle list.
    pub fn idle_ps(&self) -> usize {
        self.npidle.load(Ordering::SeqCst)
    }

    /// Ms counted as spinning.
    pub fn spinning(&self) -> usize {
        self.nmspinning.load(Ordering::SeqCst)
    }

    /// Ms asleep waiting for a P.
    pub fn sleeping_ms(&self) -> usize {
        self.nmidle.load(Ordering::SeqCst)
    }

    /// Ms alive.
    pub fn threads(&self) -> usize {
        self.state().nm
    }

    /// Puts a P on the idle list. The caller holds `lock`.
    pub fn put_p(&self, st: &mut IdleState<P>, p: P) {
        st.ps.push(p);
        self.npidle.store(st.ps.len(), Ordering::SeqCst);
    }

    /// Takes a P from the idle list. The caller holds `lock`.
    pub fn take_p(&self, st: &mut IdleState<P>) -> Option<P> {
        let p = st.ps.pop()?;
        self.npidle.store(st.ps.len(), Ordering::SeqCst);
        Some(p)
    }

    /// Takes an idle P, if any, and wakes sysmon (as [`start_m_locked`]
    /// does for the Ps it hands out): sysmon may be in its deep sleep,
    /// begun while every P was idle, and must be awake while a P runs —
    /// it alone polls the netpoller and retakes Ps then. (The Ps taken
    /// here run on the caller's own M: `give_up_p`'s second look, the
    /// timer-role M's due timers, a `blocking()` call's return. Without
    /// the wake, sysmon slept through them; loom:
    /// `sysmon_awake_while_a_p_runs`.)
    pub fn take_idle_p(&self) -> Option<P> {
        let p = {
            let mut st = self.state();
            self.take_p(&mut st)?
        };
        super::sysmon::p_taken();
        Some(p)
    }

    /// The submitter's half of the handshake (Go's `wakep`), called after
    /// it queued work: `Some` when no M is spinning and a P is idle — the
    /// caller must run the returned P (taken under the returned lock, still
    /// held so it can pick an M) on an M that starts out spinning with the
    /// returned token. `None`: an M is spinning or every P is busy, and one
    /// of them will see the work (see the module comment).
    #[allow(clippy::type_complexity)]
    pub fn wakep_claim(&self) -> Option<(MutexGuard<'_, IdleState<P>>, P, Spinning)> {
        // StoreLoad: the caller's push of work must be visible before we read
        // the idle counters; pairs with the fence in `give_up_p`.
        fence(Ordering::SeqCst);
        if self.idle_ps() == 0 {
            return None;
        }
        let t = self.claim_spinner()?;
        let mut st = self.state();
        match self.take_p(&mut st) {
            Some(p) => Some((st, p, t)),
            None => {
                drop(st);
                self.drop_spinning(t);
                None
            }
        }
    }

    /// The M's half (the end of Go's `findRunnable`): an M that found no
    /// work gives `p` back to the idle list — unless `global()` has work —
    /// then, if it was `spinning`, drops the token and re-checks every
    /// queue (`anywhere()`), else re-checks the global queue: a submitter
    /// that pushed meanwhile may have seen no idle P, or a spinner, and
    /// left the work to us. `nprocs`: the current `maxprocs`.
    pub fn give_up_p(
        &self,
        p: P,
        spinning: Option<Spinning>,
        nprocs: usize,
        global: impl Fn() -> bool,
        anywhere: impl Fn() -> bool,
    ) -> GaveUp<P> {
        {
            let mut st = self.state();
            if global() {
                drop(st);
                return GaveUp::Retry(p, spinning);
            }
            self.put_p(&mut st, p);
        }
        if let Some(t) = spinning {
            self.drop_spinning(t);
            // StoreLoad: pairs with the fence in `wakep_claim`.
            fence(Ordering::SeqCst);
            if anywhere() {
                if let Some(p) = self.take_idle_p() {
                    // Spin again only if the cap allows; else just look once.
                    return GaveUp::Retry(p, self.try_spin(nprocs));
                }
            }
        } else {
            // A non-spinning M re-checks the global queue too: a plain thread
            // may have pushed there after our check above but before `put_p`,
            // and its `wakep` then saw no idle P. put_p (a SeqCst store), the
            // fence, then the load here pair with push, fence, load in
            // `wakep_claim`.
            fence(Ordering::SeqCst);
            if global() {
                if let Some(p) = self.take_idle_p() {
                    return GaveUp::Retry(p, None);
                }
            }
        }
        GaveUp::Sleep
    }

    /// A spinning M that finds it has no P to give up — it was retired, or
    /// sysmon retook it while a timer callback ran on this M (a blocking
    /// section) — goes to sleep: the spinner's half of [`Idle::give_up_p`]
    /// without the P. A submitter (or `handoff_p`'s [`wakep`] for that very
    /// P) may have left its work to us on the strength of our token, so we
    /// drop it, then look once more (`anywhere()`): `MustWake::Yes` means
    /// work is queued and the caller must [`wakep`] to pass it on. (Without
    /// this look a goroutine readied from a plain thread sat in the global
    /// queue with every P idle: chan_semantics' timer race, 1 run in 4 on
    /// a loaded machine; loom: `spinner_losing_p_to_retake_no_lost_wakeup`.)
    pub fn spinner_lost_p(&self, t: Spinning, anywhere: impl Fn() -> bool) -> MustWake {
        self.drop_spinning(t);
        // StoreLoad: pairs with the fence in `wakep_claim`.
        fence(Ordering::SeqCst);
        if anywhere() {
            MustWake::Yes
        } else {
            MustWake::No
        }
    }

    /// An M holding a P starts spinning, if few enough do already (at most
    /// half the busy Ps: Go's rule, so spinning cannot eat the machine).
    pub fn try_spin(&self, nprocs: usize) -> Option<Spinning> {
        let busy = nprocs.saturating_sub(self.idle_ps());
        if 2 * self.spinning() >= busy {
            return None;
        }
        self.nmspinning.fetch_add(1, Ordering::SeqCst);
        Some(Spinning(()))
    }

    /// A spinning M found work and stops spinning. If it was the last
    /// spinner, it owes a [`wakep`], so that work queued meanwhile keeps
    /// being looked at.
    pub fn stop_spinning(&self, t: Spinning) -> MustWake {
        let Spinning(()) = t;
        if self.nmspinning.fetch_sub(1, Ordering::SeqCst) == 1 {
            MustWake::Yes
        } else {
            MustWake::No
        }
    }

    /// A spinning M stops spinning without having found work (it is going
    /// to sleep, or its P was retired).
    pub fn drop_spinning(&self, t: Spinning) {
        let Spinning(()) = t;
        self.nmspinning.fetch_sub(1, Ordering::SeqCst);
    }

    /// Claims the one "spinner to start" token when nobody spins: the
    /// caller then starts an M with it ([`startm`]).
    fn claim_spinner(&self) -> Option<Spinning> {
        if self.spinning() != 0
            || self
                .nmspinning
                .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            return None;
        }
        Some(Spinning(()))
    }

    /// An M goes to sleep ([`stopm`]): it joins the sleepers and takes the
    /// timer role if nobody holds it; `true` if it did. The caller holds
    /// `lock`.
    pub fn push_sleeper(&self, st: &mut IdleState<P>, m: &Arc<MHandle>) -> bool {
        st.ms.push(m.clone());
        self.nmidle.fetch_add(1, Ordering::Relaxed);
        if st.timer_sleeper.is_some() {
            return false;
        }
        m.timer_role.store(true, Ordering::SeqCst);
        st.timer_sleeper = Some(m.clone());
        true
    }

    /// A sleeping M to hand a P to ([`start_m_locked`]), off the list:
    /// one without the timer role if there is one, so the role holder
    /// sleeps on. The second M is the one the role passed to, which the
    /// caller must [`MHandle::notify`] after unlocking. `None`: no M
    /// sleeps. The caller holds `lock`.
    #[allow(clippy::type_complexity)]
    pub fn pick_sleeper(
        &self,
        st: &mut IdleState<P>,
    ) -> Option<(Arc<MHandle>, Option<Arc<MHandle>>)> {
        let i = st
            .ms
            .iter()
            .rposition(|m| !m.timer_role.load(Ordering::Relaxed))
            .or_else(|| st.ms.len().checked_sub(1))?;
        let m = st.ms.swap_remove(i);
        self.nmidle.fetch_sub(1, Ordering::Relaxed);
        let next_role = release_timer_role(st, &m);
        Some((m, next_role))
    }

    /// A sleeping M's deadline passed ([`sleep`]): the timer role's (`role`:
    /// what it read before it slept), or its idle-exit deadline, which
    /// counts only while more Ms than `maxprocs` exist. See [`Due`]. The
    /// caller holds `lock`.
    pub fn leave_when_due(
        &self,
        st: &mut IdleState<P>,
        m: &Arc<MHandle>,
        role: bool,
        maxprocs: usize,
    ) -> Due {
        let exit = !role && st.nm > maxprocs;
        if !role && !exit {
            return Due::Needed;
        }
        let Some(i) = st.ms.iter().position(|s| Arc::ptr_eq(s, m)) else {
            return Due::Handed;
        };
        st.ms.swap_remove(i);
        self.nmidle.fetch_sub(1, Ordering::Relaxed);
        let next_role = release_timer_role(st, m);
        if exit {
            st.nm -= 1;
            Due::Exit(next_role)
        } else {
            Due::Timers(next_role)
        }
    }

    /// The sleeping M that must wake for an earlier timer
    /// ([`timers_changed`]): the role holder, or the last sleeper, given
    /// the role now. `None`: no M sleeps. The caller holds `lock`.
    pub fn role_holder(&self, st: &mut IdleState<P>) -> Option<Arc<MHandle>> {
        if let Some(h) = &st.timer_sleeper {
            return Some(h.clone());
        }
        let h = st.ms.last()?.clone();
        h.timer_role.store(true, Ordering::SeqCst);
        st.timer_sleeper = Some(h.clone());
        Some(h)
    }

    /// A new M is about to start: counted, and its id. The caller holds
    /// `lock`.
    pub fn count_new_m(&self, st: &mut IdleState<P>) -> usize {
        st.nm += 1;
        st.next_mid += 1;
        st.next_mid
    }

    /// An M exits outside the idle lists (its locked goroutine exited).
    pub fn forget_m(&self) {
        self.state().nm -= 1;
    }

    /// An M whose P was retaken by sysmon counts as running no goroutine.
    pub fn all_idle(&self, maxprocs: usize) -> bool {
        self.idle_ps() == maxprocs && self.spinning() == 0
    }
}

impl Idle<POwned> {
    /// Retires the idle Ps numbered `n` and above (maxprocs shrank): their
    /// queues go to `global`.
    pub fn retire_above(
        &self,
        st: &mut IdleState,
        n: usize,
        global: &crossbeam_deque::Injector<crate::g::GPtr>,
    ) {
        let mut i = 0;
        while i < st.ps.len() {
            if st.ps[i].p.id >= n {
                let mut p = st.ps.swap_remove(i);
                p.drain_into(global);
                st.retired.push(p);
            } else {
                i += 1;
            }
        }
        self.npidle.store(st.ps.len(), Ordering::SeqCst);
    }
}

/// What [`Idle::give_up_p`] leaves the M with.
pub(crate) enum GaveUp<P> {
    /// Work appeared: run this P again and look once more (spinning if the
    /// token is there).
    Retry(P, Option<Spinning>),
    /// The P is on the idle list and the M is not spinning: sleep.
    Sleep,
}

/// What [`Idle::leave_when_due`] found; an M given the timer role passed
/// it on to the M named, which the caller must [`MHandle::notify`] after
/// unlocking.
pub(crate) enum Due {
    /// It held the role: it is off the list, to fire the due timers.
    Timers(Option<Arc<MHandle>>),
    /// Idle too long and not needed: off the list and no longer counted.
    Exit(Option<Arc<MHandle>>),
    /// Not on the list: someone is handing it a P.
    Handed,
    /// No role, and no more Ms than Ps: it stays, asleep until handed a
    /// P or given the role.
    Needed,
}

/// Makes sure some M will look at newly queued work (Go's `wakep`).
///
/// Call after making a G runnable. Cheap when every P is busy or an M is
/// already spinning: two loads after a fence.
pub(crate) fn wakep(rt: &Runtime) {
    if let Some((st, p, t)) = rt.idle.wakep_claim() {
        start_m_locked(
            rt,
            st,
            Wake {
                p,
                spinning: Some(t),
            },
        );
    }
}

/// Runs `p` (taken from a stuck M by sysmon) on an idle or new M.
pub(crate) fn startm_with(rt: &Runtime, p: POwned) {
    let st = rt.idle.state();
    start_m_locked(rt, st, Wake { p, spinning: None });
}

fn start_m_locked(rt: &Runtime, mut st: MutexGuard<'_, IdleState>, wake: Wake) {
    if let Some((m, next_role)) = rt.idle.pick_sleeper(&mut st) {
        drop(st);
        m.hand(wake);
        if let Some(h) = next_role {
            h.notify();
        }
        super::sysmon::wake(rt);
        return;
    }
    if st.nm >= MAX_MS {
        drop(st);
        crate::throw(&format!(
            "thread exhaustion: {MAX_MS} Ms exist (too many goroutines inside blocking() at once?)"
        ));
    }
    let id = rt.idle.count_new_m(&mut st);
    drop(st);
    super::worker::spawn_m(id, wake);
    super::sysmon::wake(rt);
}

impl MHandle {
    pub fn new(id: usize) -> Arc<MHandle> {
        Arc::new(MHandle {
            id,
            slot: Mutex::new(None),
            cv: Condvar::new(),
            timer_role: AtomicBool::new(false),
        })
    }

    /// Whether this M holds the timer role (for the loom models).
    #[cfg(loom)]
    pub(crate) fn holds_timer_role(&self) -> bool {
        self.timer_role.load(Ordering::SeqCst)
    }

    /// Wakes the M without handing it anything, so it re-reads its timer
    /// role and the earliest deadline. Taking the slot lock orders this
    /// against the M's read of the deadline (no lost notification).
    fn notify(&self) {
        let _slot = self.slot.lock();
        self.cv.notify_one();
        crate::netpoll::wake_m(self.id); // netpoll: it may sleep in epoll_wait
    }

    /// Hands the M a P (and, for a locked M, its goroutine: see
    /// `locked.rs`) and wakes it.
    pub(crate) fn hand(&self, wake: Wake) {
        let mut slot = self.slot.lock();
        debug_assert!(slot.is_none());
        *slot = Some(wake);
        drop(slot);
        self.cv.notify_one();
        crate::netpoll::wake_m(self.id); // netpoll: it may sleep in epoll_wait
    }
}

impl MHandle {
    /// Sleeps until [`MHandle::hand`] gives this M a P. Only for an M that
    /// is on no idle list (a locked M waiting for its goroutine), so nobody
    /// else hands it anything and it never holds the timer role.
    pub(crate) fn wait_handed(&self) -> Wake {
        let mut slot = self.slot.lock();
        loop {
            if let Some(w) = slot.take() {
                return w;
            }
            slot = self.cv.wait(slot);
        }
    }
}

/// Gives away a P whose M stops running goroutines for a while (Go's
/// `handoffp`): to another M at once if there is work for it (queued
/// goroutines, or timers to fire), else to the idle list.
pub(crate) fn handoff_p(rt: &Runtime, p: POwned) {
    let has_work = !p.is_idle() || !rt.global.is_empty();
    if has_work || crate::timer::pending() > 0 {
        startm_with(rt, p);
    } else {
        let mut st = rt.idle.state();
        rt.idle.put_p(&mut st, p);
        drop(st);
        wakep(rt);
        // The P is still idle (wakep found it no work): the role holder
        // may look again.
        if rt.idle.idle_ps() > 0 {
            let holder = holder_for_idle_p(&rt.idle.state());
            if let Some(h) = holder {
                h.notify();
            }
        }
    }
}

/// The timer-role holder to notify, now that a P went idle, so that it
/// looks again (the caller then calls [`MHandle::notify`] after unlocking):
/// while every P is busy it sleeps past timer deadlines and off the
/// netpoller (`sleep`). `None` when it has nothing to look at, or when it
/// already sleeps in `epoll_wait` (it did so because a P was idle: its
/// deadline is exact and it sees every event; waking it would cost an
/// eventfd write and two more `epoll_wait` calls).
fn holder_for_idle_p(st: &IdleState) -> Option<Arc<MHandle>> {
    let h = st.timer_sleeper.as_ref()?;
    let wanted = crate::timer::pending() > 0 || crate::netpoll::waiters() > 0;
    (wanted && !crate::netpoll::polling(h.id)).then(|| h.clone())
}

/// If `m` holds the timer role, takes it away and gives it to another
/// sleeping M, which the caller must [`MHandle::notify`] after unlocking.
fn release_timer_role<P>(st: &mut IdleState<P>, m: &Arc<MHandle>) -> Option<Arc<MHandle>> {
    if !m.timer_role.swap(false, Ordering::SeqCst) {
        return None;
    }
    st.timer_sleeper = None;
    let next = st.ms.last()?.clone();
    next.timer_role.store(true, Ordering::SeqCst);
    st.timer_sleeper = Some(next.clone());
    Some(next)
}

/// A timer earlier than every other was added: make sure a sleeping M will
/// wake for it. (Running Ms check deadlines on every scheduling pass.)
pub(crate) fn timers_changed(rt: &Runtime) {
    let mut st = rt.idle.state();
    let Some(holder) = rt.idle.role_holder(&mut st) else {
        // No M sleeps. Running Ms check deadlines on every pass, but a free
        // P means no M may be running at all (a plain thread set the timer
        // before any goroutine ran, or every M is in `blocking`): start
        // one; it finds no work and takes the timer role as it goes to
        // sleep (Go's `wakeNetPoller`).
        if let Some(p) = rt.idle.take_p(&mut st) {
            start_m_locked(rt, st, Wake { p, spinning: None });
        }
        return;
    };
    drop(st);
    holder.notify();
}

/// How long an M beyond `maxprocs` may sleep idle before its thread exits
/// (Ms pile up after bursts of `blocking()` calls).
const IDLE_M_EXIT: Duration = Duration::from_secs(2);

/// At most this many Ms (Go's default `debug.SetMaxThreads`).
pub(crate) const MAX_MS: usize = 10_000;

/// Puts the current M to sleep until it is handed a P (Go's `stopm`). The M
/// holding the timer role also wakes at the earliest timer deadline, fires
/// the due timers, and takes an idle P if there is one. `None`: this M was
/// idle too long and is not needed; its thread should exit.
pub(crate) fn stopm(handle: &Arc<MHandle>) -> Option<Wake> {
    let rt = runtime();
    loop {
        {
            let mut st = rt.idle.state();
            let holder = if rt.idle.push_sleeper(&mut st, handle) {
                None
            } else {
                // Our P just went idle.
                holder_for_idle_p(&st)
            };
            drop(st);
            if let Some(h) = holder {
                h.notify();
            }
        }
        super::sysmon::on_m_idle(rt);
        match sleep(rt, handle) {
            Slept::Woken(w) => return Some(w),
            Slept::Exit => return None,
            Slept::TimerDue => {}
        }
        // A timer is due and we left the idle list: fire it, with a P if one
        // is free (then the woken goroutines run here).
        match rt.idle.take_idle_p() {
            // (`take_idle_p` wakes sysmon: it may be in its deep sleep.)
            Some(p) => return Some(Wake { p, spinning: None }),
            None => super::worker::fire_timers(),
        }
    }
}

enum Slept {
    /// Handed a P.
    Woken(Wake),
    /// A timer is due; this M has left the idle list.
    TimerDue,
    /// Idle too long and more Ms than Ps exist; this M has left the idle
    /// list and is no longer counted.
    Exit,
}

/// Waits for a P, or (with the timer role) for the earliest deadline.
fn sleep(rt: &Runtime, handle: &Arc<MHandle>) -> Slept {
    let mut slot = handle.slot.lock();
    let idle_since = Instant::now();
    loop {
        if let Some(w) = slot.take() {
            return Slept::Woken(w);
        }
        let now = Instant::now();
        let role = handle.timer_role.load(Ordering::SeqCst);
        let idle_p = rt.idle.idle_ps() > 0;
        let deadline = if role {
            // With every P busy, the running Ms fire timers on their passes
            // (as in Go, where only an M with a P runs timers), and the
            // goroutines a timer readies could not run here anyway: sleep
            // until the timer is late instead of waking once per deadline
            // (a timer storm would wake this M a million times). An M whose
            // P goes idle notifies us (`stopm`), so we look again.
            crate::timer::next_deadline().map(|d| {
                if idle_p {
                    d
                } else {
                    d + super::sysmon::TIMER_LATE
                }
            })
        } else {
            Some(idle_since + IDLE_M_EXIT)
        };
        // netpoll: the timer-role M sleeps in epoll_wait (timeout: the
        // deadline) instead of on its condvar, woken through the eventfd —
        // but only while a P is idle, as in Go, where the M that blocks in
        // netpoll is one that found nothing to do. With every P busy it
        // could not run what it readies: it would wake per event batch only
        // to queue the goroutines and sleep again (echo, 10,000 connections:
        // 840k context switches against Go's 47k). The running Ms poll when
        // they run out of work, sysmon every 10 ms (woken here: it may be
        // in its deep sleep, begun while every P was idle, and a P taken
        // since by a path that does not wake it), and an M whose P goes
        // idle notifies us (`stopm`, `handoff_p`).
        if role && !idle_p && crate::netpoll::waiters() > 0 {
            super::sysmon::wake(rt);
        }
        if role && idle_p && crate::netpoll::claim_poll(handle.id) {
            let due;
            (slot, due) = crate::netpoll::sleep(handle.id, slot, &handle.slot, deadline);
            if !due {
                continue;
            }
        } else {
            let Some(deadline) = deadline else {
                slot = handle.cv.wait(slot);
                continue;
            };
            if deadline > now {
                slot = handle.cv.wait_timeout(slot, deadline - now).0;
                continue;
            }
        }
        // Due. Leave the idle list, unless someone is handing us a P.
        drop(slot);
        let due = rt
            .idle
            .leave_when_due(&mut rt.idle.state(), handle, role, rt.maxprocs());
        let (slept, next_role) = match due {
            Due::Timers(next) => (Slept::TimerDue, next),
            Due::Exit(next) => (Slept::Exit, next),
            Due::Handed => {
                slot = handle.slot.lock();
                continue;
            }
            Due::Needed => {
                // Needed after all: sleep without a deadline until handed a
                // P or given the role.
                slot = handle.slot.lock();
                while slot.is_none() && !handle.timer_role.load(Ordering::SeqCst) {
                    slot = handle.cv.wait(slot);
                }
                continue;
            }
        };
        if let Some(h) = next_role {
            h.notify();
        }
        return slept;
    }
}
