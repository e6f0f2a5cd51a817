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
//!
//! Must never: hold `lock` while doing anything but moving Ps and Ms between
//! lists (no thread creation, no goroutine code, no unpark).

use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::p::POwned;
use super::{runtime, Runtime};

/// What an M is handed when it is woken: a P, and whether it starts spinning.
pub(crate) struct Wake {
    pub p: POwned,
    pub spinning: bool,
}

/// The part of an M other threads can reach: where to hand it a P.
pub(crate) struct MHandle {
    #[allow(dead_code)] // read by scheddetail
    pub id: usize,
    slot: Mutex<Option<Wake>>,
    cv: Condvar,
}

pub(crate) struct IdleState {
    /// Ps nobody is running, ready to be handed out.
    pub ps: Vec<POwned>,
    /// Ps with `id >= maxprocs`, kept for when `maxprocs` grows again.
    pub retired: Vec<POwned>,
    /// Ms asleep, waiting for a P.
    pub ms: Vec<Arc<MHandle>>,
    /// Ms created so far.
    pub nm: usize,
}

pub(crate) struct Idle {
    pub lock: Mutex<IdleState>,
    /// `lock`'s `ps.len()`, readable without the lock.
    pub npidle: AtomicUsize,
    /// Ms looking for work to steal (Go's `nmspinning`).
    pub nmspinning: AtomicUsize,
    /// Ms asleep in `stopm`.
    pub nmidle: AtomicUsize,
}

impl Idle {
    pub fn new(ps: Vec<POwned>) -> Idle {
        let n = ps.len();
        Idle {
            lock: Mutex::new(IdleState {
                ps,
                retired: Vec::new(),
                ms: Vec::new(),
                nm: 0,
            }),
            npidle: AtomicUsize::new(n),
            nmspinning: AtomicUsize::new(0),
            nmidle: AtomicUsize::new(0),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, IdleState> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a P on the idle list. The caller holds `lock`.
    pub fn put_p(&self, st: &mut IdleState, p: POwned) {
        st.ps.push(p);
        self.npidle.store(st.ps.len(), Ordering::SeqCst);
    }

    /// Takes a P from the idle list. The caller holds `lock`.
    pub fn take_p(&self, st: &mut IdleState) -> Option<POwned> {
        let p = st.ps.pop()?;
        self.npidle.store(st.ps.len(), Ordering::SeqCst);
        Some(p)
    }
}

/// Makes sure some M will look at newly queued work (Go's `wakep`).
///
/// Call after making a G runnable. Cheap when every P is busy or an M is
/// already spinning: two loads after a fence.
pub(crate) fn wakep(rt: &Runtime) {
    // StoreLoad: the caller's push of work must be visible before we read the
    // idle counters; pairs with the fence in `worker::give_up_p`.
    fence(Ordering::SeqCst);
    if rt.idle.npidle.load(Ordering::SeqCst) == 0 {
        return;
    }
    if rt.idle.nmspinning.load(Ordering::SeqCst) != 0
        || rt
            .idle
            .nmspinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
    {
        return;
    }
    startm(rt, true);
}

/// Runs an idle P on an idle (or new) M. With `spinning`, the caller has
/// already counted the new M in `nmspinning`.
pub(crate) fn startm(rt: &Runtime, spinning: bool) {
    let mut st = rt.idle.state();
    let Some(p) = rt.idle.take_p(&mut st) else {
        drop(st);
        if spinning {
            rt.idle.nmspinning.fetch_sub(1, Ordering::SeqCst);
        }
        return;
    };
    let wake = Wake { p, spinning };
    if let Some(m) = st.ms.pop() {
        drop(st);
        rt.idle.nmidle.fetch_sub(1, Ordering::Relaxed);
        m.hand(wake);
        return;
    }
    st.nm += 1;
    let id = st.nm;
    drop(st);
    super::worker::spawn_m(id, wake);
}

impl MHandle {
    pub fn new(id: usize) -> Arc<MHandle> {
        Arc::new(MHandle {
            id,
            slot: Mutex::new(None),
            cv: Condvar::new(),
        })
    }

    fn hand(&self, wake: Wake) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        debug_assert!(slot.is_none());
        *slot = Some(wake);
        drop(slot);
        self.cv.notify_one();
    }
}

/// Puts the current M to sleep until it is handed a P (Go's `stopm`).
pub(crate) fn stopm(handle: &Arc<MHandle>) -> Wake {
    let rt = runtime();
    {
        let mut st = rt.idle.state();
        st.ms.push(handle.clone());
        rt.idle.nmidle.fetch_add(1, Ordering::Relaxed);
    }
    let mut slot = handle.slot.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(w) = slot.take() {
            return w;
        }
        slot = handle.cv.wait(slot).unwrap_or_else(|e| e.into_inner());
    }
}
