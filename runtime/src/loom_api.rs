//! The runtime's protocol types as the loom models see them
//! (`runtime/tests/loom.rs`); compiled only under `--cfg loom`.
//!
//! Owns: thin public wrappers that forward to the real types — the models
//! run the runtime's own code, not a copy of it; only the parts that need
//! a running scheduler (coroutines, Ms) are left out.
//!
//! Must never: add logic of its own, or be compiled in a normal build.

use crate::g::{GPtr, Joiner, ParkWord as RealParkWord, Release, G};
use crate::park::Waiter;
use crate::sched::idle::{GaveUp, Idle as RealIdle, MustWake, Spinning};
use crate::sched::pcell::SpinCell as RealSpinCell;
use crate::waitq;

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
pub struct Record(GPtr);

// SAFETY: as `GPtr`: who may touch the record when is `Life`'s protocol,
// which is what the models check.
unsafe impl Send for Record {}
// SAFETY: as above.
unsafe impl Sync for Record {}

impl Record {
    /// A fresh record, as a spawn sets it up.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Record {
        let g = G::alloc(None, None);
        g.begin(crate::GoId(1), std::panic::Location::caller());
        Record(g)
    }

    /// The goroutine leaves its result (`G::put_result`).
    ///
    /// # Safety
    /// Once, by the "goroutine", before [`Record::finish`].
    pub unsafe fn put_result<R>(&self, r: R) {
        // SAFETY: per the contract.
        unsafe { self.0.put_result(r) }
    }

    /// The finishing M's part (`worker::exit_g`): `Life::finish`, dropping
    /// an orphaned result with `G::drop_result`. Returns (a joiner waits,
    /// the caller must recycle the record).
    ///
    /// # Safety
    /// Once, after [`Record::put_result`].
    pub unsafe fn finish(&self) -> (bool, bool) {
        // SAFETY: `finish` calls it only for an orphaned result, once.
        let fin = self.0.life.finish(|| unsafe { self.0.drop_result() });
        (fin.joiner, fin.release == Release::Recycle)
    }

    /// Wakes the joiner `finish` reported (`G::wake_joiner`).
    ///
    /// # Safety
    /// `finish` reported a joiner; once.
    pub unsafe fn wake_joiner(&self) {
        // SAFETY: per the contract.
        unsafe { self.0.wake_joiner() }
    }

    /// Whether the goroutine finished (`Life::is_finished`).
    pub fn is_finished(&self) -> bool {
        self.0.life.is_finished()
    }

    /// The joiner's part before it waits (`JoinHandle::join`): stores its
    /// wait record and announces itself; `false` if the goroutine finished
    /// first.
    ///
    /// # Safety
    /// Only the one joiner; `w` stays put until woken.
    pub unsafe fn announce_joiner(&self, w: &Waiter) -> bool {
        // SAFETY: per the contract.
        unsafe {
            self.0.set_joiner(Joiner {
                record: (w as *const Waiter).cast(),
                wake: crate::spawn::wake_joiner,
            })
        };
        self.0.life.announce_joiner()
    }

    /// Takes the result (`G::take_result`).
    ///
    /// # Safety
    /// `Life` showed the goroutine finished, the result is there, it is an
    /// `R`, and this is its one taker.
    pub unsafe fn take_result<R>(&self) -> R {
        // SAFETY: per the contract.
        unsafe { self.0.take_result() }
    }

    /// The handle lets go (`Life::drop_handle`): (the goroutine had
    /// finished, the caller must recycle the record).
    pub fn drop_handle(&self) -> (bool, bool) {
        let (finished, release) = self.0.life.drop_handle();
        (finished, release == Release::Recycle)
    }

    /// An `Unparker` starts naming the record.
    pub fn add_ext_ref(&self) {
        self.0.life.add_ext_ref()
    }

    /// An `Unparker` lets go: `true` when the caller must recycle.
    pub fn drop_ext_ref(&self) -> bool {
        self.0.life.drop_ext_ref() == Release::Recycle
    }

    /// Frees the record.
    ///
    /// # Safety
    /// `Life` said to recycle it, and nobody touches it again.
    pub unsafe fn free(self) {
        // SAFETY: per the contract (the record was never registered).
        unsafe { self.0.free() }
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
        // SAFETY: per the contract.
        unsafe { self.0.weight() }
    }

    /// `WaiterPtr::wake`.
    ///
    /// # Safety
    /// Popped from its queue under the queue's lock; once.
    pub unsafe fn wake(self, how: u8) {
        // SAFETY: per the contract.
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

    /// Ps on the idle list.
    pub fn idle_ps(&self) -> usize {
        self.0.idle_ps()
    }

    /// Ms counted as spinning.
    pub fn spinning(&self) -> usize {
        self.0.spinning()
    }
}
