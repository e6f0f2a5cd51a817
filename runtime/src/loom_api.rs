//! The runtime's protocol types as the loom models see them
//! (`runtime/tests/loom.rs`); compiled only under `--cfg loom`.
//!
//! Owns: thin public wrappers that forward to the real types — the models
//! run the runtime's own code, not a copy of it; only the parts that need
//! a running scheduler (coroutines, Ms) are left out — and, on [`Record`],
//! the instrumentation the `Life` models check order with (a loom-tracked
//! "recycled" flag, and what a recycle writes).
//!
//! Must never: add protocol logic of its own (each wrapper is one party's
//! production sequence), or be compiled in a normal build.

use crate::g::{GPtr, Joiner, ParkWord as RealParkWord, Release, G};
use crate::park::Waiter;
use crate::sched::idle::{Due as RealDue, GaveUp, Idle as RealIdle, MHandle, MustWake, Spinning};
use crate::sched::pcell::SpinCell as RealSpinCell;
use crate::waitq;
use std::sync::Arc;

/// `g::ParkWord`: the park/unpark handshake of one goroutine.
pub struct ParkWord(RealParkWord);

impl ParkWord {
    /// A word for a running goroutine (`EMPTY`).
    #[allow(clippy::new_without_default)]
    pub fn new() -> ParkWord {
        ParkWord(RealParkWord::new())
    }

    /// A waker's side: `true` when the caller must ready the goroutine.
    pub fn unpark(&self) -> bool {
        self.0.unpark()
    }

    /// The M's side after the switch: `true` when the goroutine is parked,
    /// `false` when a token was there (consumed): run it again.
    pub fn publish_parked(&self) -> bool {
        self.0.publish_parked()
    }
}

/// A goroutine record (`g::G`) as `Life` and the result slot see it: the
/// record is real (allocated by `G::alloc`), but never runs a coroutine.
///
/// Each method runs the production sequence of one party (the goroutine's
/// last act, its M's exit, the handle's drop or join, an `Unparker`'s
/// drop) and returns what it tells its caller. [`Record::recycle`] does
/// to the record what a recycle and the next spawn on it do: it writes
/// the result slot and the joiner slot (loom cells under `--cfg loom`) and
/// resets the state words. So loom reports any access to those slots that
/// it cannot order before the recycle (a causality violation), and a late
/// transition of `Life` leaves the next incarnation's word dirty
/// ([`Record::is_fresh`]). A loom-tracked flag, read as each party starts
/// its step, catches a party that starts after the recycle.
pub struct Record {
    g: GPtr,
    recycled: loom::cell::UnsafeCell<bool>,
}

// SAFETY: the record is a `G` (Send and Sync) reached through a `GPtr`;
// who may touch it when is `Life`'s protocol, which the models check, and
// the flag is a loom cell whose every access loom tracks.
unsafe impl Send for Record {}
// SAFETY: a shared `Record` offers only the wrappers, each one party's
// step, whose exclusive-access contracts are `Life`'s protocol (as for
// `Send`).
unsafe impl Sync for Record {}

impl Record {
    /// A fresh record, as a spawn sets it up.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Record {
        let g = G::alloc(None, None);
        g.begin(crate::GoId(1), std::panic::Location::caller());
        Record {
            g,
            recycled: loom::cell::UnsafeCell::new(false),
        }
    }

    /// Asserts the record has not been recycled: a read loom orders
    /// against [`Record::recycle`]'s write.
    #[track_caller]
    fn live(&self, what: &str) {
        // SAFETY: `p` points into `self.recycled`, alive with `self`; loom's
        // `with` checks, before this read runs, that every write to the
        // flag happens before it, and fails the model instead of racing.
        let recycled = self.recycled.with(|p| unsafe { *p });
        assert!(!recycled, "{what} touched the record after it was recycled");
    }

    /// Runs one party's step, checking first that the record is live.
    #[track_caller]
    fn step<T>(&self, what: &str, f: impl FnOnce(GPtr) -> T) -> T {
        self.live(what);
        f(self.g)
    }

    /// The goroutine's last act, on its own stack: hands `r` to the
    /// handle (`None`), or gives it back to be dropped here, by the
    /// goroutine itself, because the handle is gone (`Some`).
    ///
    /// # Safety
    /// Once, by the "goroutine", before [`Record::exit`].
    pub unsafe fn end_body<R>(&self, r: R) -> Option<R> {
        // SAFETY: the caller's contract: once, by the goroutine, with the
        // `R` its handle takes.
        self.step("the goroutine", |g| unsafe { g.end_body(r) })
    }

    /// The M's part after the goroutine's last switch (`worker::exit_g`):
    /// returns (a joiner waits: call [`Record::wake_joiner`], the caller
    /// must recycle the record).
    ///
    /// # Safety
    /// Once, after [`Record::end_body`].
    pub unsafe fn exit(&self) -> (bool, bool) {
        self.step("the M", |g| {
            let exit = g.life.exit();
            (exit.joiner, exit.release == Release::Recycle)
        })
    }

    /// Wakes the joiner `exit` reported (`G::wake_joiner`).
    ///
    /// # Safety
    /// `exit` reported a joiner; once.
    pub unsafe fn wake_joiner(&self) {
        // SAFETY: the caller's contract: `exit` reported a joiner, and this
        // is its one wake.
        self.step("the M waking the joiner", |g| unsafe { g.wake_joiner() })
    }

    /// Whether the goroutine finished (`Life::is_finished`).
    pub fn is_finished(&self) -> bool {
        self.step("is_finished", |g| g.life.is_finished())
    }

    /// The joiner's part before it waits (`JoinHandle::join`): stores its
    /// wait record and announces itself; `false` if the goroutine finished
    /// first.
    ///
    /// # Safety
    /// Only the one joiner; `w` stays put until woken.
    pub unsafe fn announce_joiner(&self, w: &Waiter) -> bool {
        self.step("the joiner", |g| {
            // SAFETY: the caller's contract: the one joiner, before it
            // announces itself, with a record that stays put until woken.
            unsafe {
                g.set_joiner(Joiner {
                    record: (w as *const Waiter).cast(),
                    wake: crate::spawn::wake_joiner,
                })
            };
            g.life.announce_joiner()
        })
    }

    /// The joiner once the goroutine finished (`JoinHandle::join` after
    /// its wait): takes the result and lets go. Returns it and whether the
    /// caller must recycle the record.
    ///
    /// # Safety
    /// `Life` showed the goroutine finished, it is an `R`, and this is the
    /// handle's one use.
    pub unsafe fn take_joined<R>(&self) -> (R, bool) {
        self.step("the joiner", |g| {
            // SAFETY: the caller's contract: FINISHED was seen with
            // acquire, the result is an `R`, and this is the handle's one use.
            let (r, release) = unsafe { g.take_joined::<R>() };
            (r, release == Release::Recycle)
        })
    }

    /// The handle dropped unjoined (`JoinHandle::drop`): the result if
    /// the goroutine had finished (the caller drops it), and whether the
    /// caller must recycle the record.
    ///
    /// # Safety
    /// It is an `R`, and this is the handle's one use.
    pub unsafe fn drop_handle<R>(&self) -> (Option<R>, bool) {
        self.step("the handle", |g| {
            // SAFETY: the caller's contract: the handle's one use, and the
            // result is an `R`.
            let (r, release) = unsafe { g.drop_handle::<R>() };
            (r, release == Release::Recycle)
        })
    }

    /// An `Unparker` starts naming the record.
    pub fn add_ext_ref(&self) {
        self.step("an Unparker", |g| g.life.add_ext_ref())
    }

    /// An `Unparker` lets go: `true` when the caller must recycle.
    pub fn drop_ext_ref(&self) -> bool {
        self.step("an Unparker", |g| g.life.drop_ext_ref() == Release::Recycle)
    }

    /// The record is recycled (`sched::free_g`) and a new goroutine starts
    /// on it (`G::begin`, a result and a joiner written): from here on
    /// nobody from the old incarnation may touch it. Panics if it was
    /// recycled already.
    pub fn recycle(&self) {
        // SAFETY: `p` points into `self.recycled`, alive with `self`; loom's
        // `with_mut` checks, before this write runs, that every other
        // access to the flag happens before it, and fails the model instead
        // of racing.
        self.recycled.with_mut(|p| unsafe {
            assert!(!*p, "the record was recycled twice");
            *p = true;
        });
        self.g.model_reuse();
    }

    /// Whether the record's state words are as the last [`Record::recycle`]
    /// left them: no transition of the old incarnation came after it.
    pub fn is_fresh(&self) -> bool {
        self.g.model_is_fresh()
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        // SAFETY: the model is over and every thread joined: nobody touches
        // the record again (it was never registered).
        unsafe { self.g.free() }
    }
}

/// `waitq::Waiter`: a sync wait-queue node, on its waiter's stack.
pub struct WaitNode(waitq::Waiter);

/// `waitq::WOKEN`.
pub const WOKEN: u8 = waitq::WOKEN;
/// `waitq::HANDOFF`.
pub const HANDOFF: u8 = waitq::HANDOFF;

impl WaitNode {
    /// A node for the current thread asking for `weight`.
    pub fn new(weight: usize) -> WaitNode {
        WaitNode(waitq::Waiter::new(weight))
    }

    /// The pointer a queue stores.
    pub fn ptr(&self) -> NodePtr {
        NodePtr(self.0.ptr())
    }

    /// Parks until woken; returns how (`WOKEN` or `HANDOFF`).
    pub fn wait(&self, commit: impl FnOnce()) -> u8 {
        self.0.wait(crate::WaitReason::Park, commit)
    }
}

/// `waitq::WaiterPtr`.
#[derive(Clone, Copy)]
pub struct NodePtr(waitq::WaiterPtr);

impl NodePtr {
    /// `WaiterPtr::weight`.
    ///
    /// # Safety
    /// The node is still queued, or popped and not yet woken.
    pub unsafe fn weight(self) -> usize {
        // SAFETY: the node is still queued, or popped and not yet woken (our
        // caller's contract, the same as `WaiterPtr::weight`'s), so its
        // owner is parked and its frame alive.
        unsafe { self.0.weight() }
    }

    /// `WaiterPtr::wake`.
    ///
    /// # Safety
    /// Popped from its queue under the queue's lock; once.
    pub unsafe fn wake(self, how: u8) {
        // SAFETY: the caller popped this pointer from its queue under the
        // queue's lock and wakes it once (our contract, the same as
        // `WaiterPtr::wake`'s), so it holds the node's only claim.
        unsafe { self.0.wake(how) }
    }
}

/// `sched::pcell::SpinCell`: the P slot's spin lock.
pub struct SpinCell<T>(RealSpinCell<T>);

pub use crate::sched::pcell::Barrier;

impl<T> SpinCell<T> {
    /// A lock around `value` (a fenced slot: both sides fence).
    pub fn new(value: T) -> SpinCell<T> {
        SpinCell(RealSpinCell::new(value))
    }

    /// A lock around `value` whose remote side orders the owner with
    /// `barrier`; its owner is the thread that calls [`SpinCell::with`]
    /// and, while remotes may come, [`SpinCell::interruptible`].
    pub fn with_barrier(value: T, barrier: Barrier) -> SpinCell<T> {
        SpinCell(RealSpinCell::with_barrier(value, barrier))
    }

    /// The owner's thread between uses: takes a remote's pending
    /// interruption, as a real thread takes a signal anywhere.
    pub fn interruptible(&self) {
        self.0.interruptible()
    }

    /// Runs `f` with the lock held, taken as the slot's owner.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut g = self.0.lock();
        f(&mut g)
    }

    /// Runs `f` with the lock held, taken as a remote (sysmon).
    pub fn with_remote<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut g = self.0.lock_remote();
        f(&mut g)
    }
}

/// `sched::idle::Idle` over Ps of type `P`: the wakep/idle handshake.
pub struct Idle<P>(RealIdle<P>);

/// An M as the idle lists see it (`idle::MHandle`): its id and timer-role
/// flag (its hand-off slot is the models' own: a P cannot be built here).
pub struct Sleeper(Arc<MHandle>);

impl Sleeper {
    /// M `id`, without the role.
    pub fn new(id: usize) -> Sleeper {
        Sleeper(MHandle::new(id))
    }

    /// The M's id.
    pub fn id(&self) -> usize {
        self.0.id
    }

    /// Whether it holds the timer role (`sleep` reads it before it sleeps).
    pub fn holds_role(&self) -> bool {
        self.0.holds_timer_role()
    }
}

/// `idle::Due`, with the Ms named by id.
#[derive(Debug, PartialEq)]
pub enum Due {
    /// Off the list to fire timers; the role passed to the M named.
    Timers(Option<usize>),
    /// Off the list, exiting; the role passed to the M named.
    Exit(Option<usize>),
    /// Someone is handing it a P.
    Handed,
    /// It stays asleep.
    Needed,
}

/// A spinning token (`idle::Spinning`).
pub struct Spin(Spinning);

impl<P> Idle<P> {
    /// The idle list holding `ps`.
    pub fn new(ps: Vec<P>) -> Idle<P> {
        Idle(RealIdle::new(ps))
    }

    /// `Idle::wakep_claim` (the lock it returns is released at once).
    pub fn wakep(&self) -> Option<(P, Spin)> {
        self.0.wakep_claim().map(|(_st, p, t)| (p, Spin(t)))
    }

    /// `Idle::give_up_p`: `Some` to retry with a P (spinning or not),
    /// `None` to sleep.
    pub fn give_up_p(
        &self,
        p: P,
        spinning: Option<Spin>,
        nprocs: usize,
        global: impl Fn() -> bool,
        anywhere: impl Fn() -> bool,
    ) -> Option<(P, Option<Spin>)> {
        match self
            .0
            .give_up_p(p, spinning.map(|s| s.0), nprocs, global, anywhere)
        {
            GaveUp::Retry(p, t) => Some((p, t.map(Spin))),
            GaveUp::Sleep => None,
        }
    }

    /// `Idle::spinner_lost_p`: `true` when the caller must wakep.
    pub fn spinner_lost_p(&self, t: Spin, anywhere: impl Fn() -> bool) -> bool {
        self.0.spinner_lost_p(t.0, anywhere) == MustWake::Yes
    }

    /// `Idle::put_p` under the lock (`idle::handoff_p` with no work).
    pub fn put_p(&self, p: P) {
        let mut st = self.0.state();
        self.0.put_p(&mut st, p);
    }

    /// `Idle::try_spin`.
    pub fn try_spin(&self, nprocs: usize) -> Option<Spin> {
        self.0.try_spin(nprocs).map(Spin)
    }

    /// `Idle::stop_spinning`: `true` when the caller owes a wakep.
    pub fn stop_spinning(&self, t: Spin) -> bool {
        self.0.stop_spinning(t.0) == MustWake::Yes
    }

    /// `Idle::take_idle_p` (the timer-role M's due timers in `stopm`, a
    /// `blocking()` call's return): a P, and sysmon woken.
    pub fn take_idle_p(&self) -> Option<P> {
        self.0.take_idle_p()
    }

    /// `Idle::push_sleeper` (`stopm`): `true` if `m` took the timer role.
    pub fn push_sleeper(&self, m: &Sleeper) -> bool {
        self.0.push_sleeper(&mut self.0.state(), &m.0)
    }

    /// `Idle::pick_sleeper` (`start_m_locked`): the id of the M to hand a
    /// P to, and of the M the timer role passed to.
    pub fn pick_sleeper(&self) -> Option<(usize, Option<usize>)> {
        let (m, next) = self.0.pick_sleeper(&mut self.0.state())?;
        Some((m.id, next.map(|n| n.id)))
    }

    /// `Idle::leave_when_due` (`sleep`, a deadline passed; `role`: what
    /// the M read before it slept).
    pub fn leave_when_due(&self, m: &Sleeper, role: bool, maxprocs: usize) -> Due {
        match self
            .0
            .leave_when_due(&mut self.0.state(), &m.0, role, maxprocs)
        {
            RealDue::Timers(next) => Due::Timers(next.map(|n| n.id)),
            RealDue::Exit(next) => Due::Exit(next.map(|n| n.id)),
            RealDue::Handed => Due::Handed,
            RealDue::Needed => Due::Needed,
        }
    }

    /// `Idle::role_holder` (`timers_changed`): the id of the M to notify.
    pub fn role_holder(&self) -> Option<usize> {
        self.0.role_holder(&mut self.0.state()).map(|m| m.id)
    }

    /// `Idle::count_new_m` (`start_m_locked` starting a thread): its id.
    pub fn count_new_m(&self) -> usize {
        self.0.count_new_m(&mut self.0.state())
    }

    /// Under the lock: the sleeping Ms' ids with their timer-role flags,
    /// and the role holder on record.
    pub fn roles(&self) -> (Vec<(usize, bool)>, Option<usize>) {
        self.0.state().roles()
    }

    /// Ps on the idle list.
    pub fn idle_ps(&self) -> usize {
        self.0.idle_ps()
    }

    /// Ms counted as spinning.
    pub fn spinning(&self) -> usize {
        self.0.spinning()
    }
}

/// `netpoll::handoff::Handoff`: who blocks in `epoll_wait`, who wants to,
/// and whether an eventfd wake-up is pending.
pub struct PollHandoff(crate::netpoll::handoff::Handoff);

impl PollHandoff {
    /// Nobody polls.
    #[allow(clippy::new_without_default)]
    pub fn new() -> PollHandoff {
        PollHandoff(crate::netpoll::handoff::Handoff::new())
    }

    /// `Handoff::claim` (`netpoll::claim_poll`): M `m` may block.
    pub fn claim(&self, m: usize) -> bool {
        self.0.claim(m)
    }

    /// `Handoff::back` (`netpoll::sleep` after `epoll_wait`).
    pub fn back(&self, broken: bool, drain: impl FnOnce()) {
        self.0.back(broken, drain)
    }

    /// `Handoff::take_wanted` (`netpoll::sleep`, last).
    pub fn take_wanted(&self) -> bool {
        self.0.take_wanted()
    }

    /// `Handoff::must_signal` (`netpoll::wake_m`): write the eventfd.
    pub fn must_signal(&self, m: usize) -> bool {
        self.0.must_signal(m)
    }

    /// `wake_sig`: an eventfd write is done or promised, not yet consumed.
    pub fn break_pending(&self) -> bool {
        self.0.break_pending()
    }
}

/// `sched::sysmon::Sysmon`: sysmon's deep sleep and the wake that ends it
/// (one set per loom execution, the one `Idle::take_idle_p` wakes).
pub struct SysmonSleep;

impl SysmonSleep {
    /// `Sysmon::pokes`: read as a sysmon pass begins.
    pub fn pokes() -> u64 {
        crate::sched::sysmon::sysmon().pokes()
    }

    /// `Sysmon::deep_sleep`: sysmon's sleep once a pass found every P idle.
    pub fn deep_sleep(seen: u64, all_idle: impl Fn() -> bool) {
        crate::sched::sysmon::sysmon().deep_sleep(seen, all_idle)
    }

    /// `sysmon::wake` (`start_m_locked`, after handing out a P).
    pub fn wake() {
        crate::sched::sysmon::sysmon().wake();
    }
}
