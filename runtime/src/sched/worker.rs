//! M: an OS thread running goroutines, and how it finds the next one.
//!
//! Owns: the M loop (`schedule`), work finding in Go's order
//! (`find_runnable`), and what happens after a goroutine switches back
//! (`execute`): requeue after a yield, run the commit closure after a park,
//! queue the parent and run the child after a spawn, recycle the stack after
//! an exit.
//!
//! Work finding, in order:
//! 1. every 61st tick, one G from the global queue (so it is never starved);
//! 2. `runnext`, unless it has run [`RUNNEXT_LIMIT`] times in a row;
//! 3. the local queue; then `runnext` regardless of the streak;
//! 4. a batch from the global queue;
//! 5. spinning (at most half the busy Ps): steal half of a random victim's
//!    queue, four passes over the Ps in random order, taking victims'
//!    `runnext` only on the last pass;
//! 6. give the P back and sleep (`idle.rs` has the no-lost-wake-up protocol).
//!
//! Must never: run goroutine code on the M's own stack, hold a `RefCell`
//! borrow of the M's P across a resume, or block while holding a P except in
//! `stopm` (which releases it first).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_deque::Steal;

use super::idle::{self, MHandle, Wake};
use super::p::{PCounters, RUNNEXT_LIMIT};
use super::pcell::{PCell, PGuard};
use super::{runtime, set_current_m, MLocal, MShared, Runtime};
use crate::coro::{Resumed, Switch};
use crate::g::{GRef, GStatus, WaitReason, PARK_EMPTY, PARK_PARKED};

/// Every this many ticks, the global queue goes first (Go: 61).
const GLOBAL_FAIRNESS_TICK: u32 = 61;

/// Passes over the victims when stealing (Go: 4).
const STEAL_TRIES: usize = 4;

/// Starts a new M running `wake.p`.
pub(crate) fn spawn_m(id: usize, wake: Wake) {
    let handle = MHandle::new(id);
    let res = std::thread::Builder::new()
        .name(format!("weft-m{id}"))
        .spawn(move || m_main(handle, wake));
    if let Err(e) = res {
        crate::throw(&format!("cannot create an OS thread for M{id}: {e}"));
    }
}

fn m_main(handle: Arc<MHandle>, wake: Wake) {
    let shared: &'static MShared = Box::leak(Box::new(MShared {
        id: handle.id,
        p: PCell::new(Some(wake.p)),
        blocking_seq: AtomicU64::new(0),
        run_seq: AtomicU64::new(0),
        exited: AtomicBool::new(false),
    }));
    let m: &'static MLocal = Box::leak(Box::new(MLocal {
        handle,
        shared,
        curg: RefCell::new(None),
        spinning: Cell::new(wake.spinning),
        in_blocking: Cell::new(false),
    }));
    let rt = runtime();
    rt.all_ms
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(shared);
    set_current_m(m);
    crate::stack::on_thread_start();
    let _guard = AbortOnUnwind;
    schedule(rt, m);
    shared.exited.store(true, Ordering::SeqCst);
}

/// A panic escaping the scheduler is a runtime bug: abort with a message
/// rather than unwind through it (Go's `throw`).
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            crate::throw("panic in the scheduler");
        }
    }
}

/// The M loop. Returns only when the M has been idle long enough to exit.
fn schedule(rt: &'static Runtime, m: &'static MLocal) {
    let mut next: Option<GRef> = None;
    loop {
        let g = match next.take() {
            Some(g) => g,
            None => match find_runnable(rt, m) {
                Some(g) => g,
                None => return,
            },
        };
        next = execute(rt, m, g);
    }
}

/// Runs `g` until it switches back; returns a G to run next without going
/// through the queues (a spawned child, or a G whose park was cancelled).
///
/// While `g` runs, sysmon may retake this M's P (the goroutine ran too long
/// without a scheduling point); then what `g` left behind goes to the global
/// queue and the M looks for a P again.
fn execute(rt: &'static Runtime, m: &'static MLocal, g: GRef) -> Option<GRef> {
    g.set_status(GStatus::Running);
    g.set_wait_reason(WaitReason::None);
    let cell: *const crate::coro::CoroCell = &g.coro;
    // SAFETY: this M owns `g` (taken from a run queue or handed over by the
    // previous step of this loop: coro.rs invariant 1).
    if unsafe { (*cell).is_unbound() } {
        bind_stack(rt, &g);
    }
    *m.curg.borrow_mut() = Some(g);
    bump_run_seq(m);
    // SAFETY: we took `g` from a run queue (or were handed it by the previous
    // step of this loop), so this M owns it (coro.rs invariant 1), and we just
    // made it the current G. `cell` points into `g`, which `m.curg` keeps
    // alive until we take it back below.
    let resumed = unsafe { (*cell).resume() };
    bump_run_seq(m);
    let g = m.curg.borrow_mut().take().expect("current G vanished");
    let mut pg = m.shared.p.lock();
    match resumed {
        Resumed::Switched(Switch::Yield) => {
            g.set_status(GStatus::Runnable);
            match pg.as_mut() {
                Some(p) => p.push_back(g),
                None => requeue_global(rt, pg, g),
            }
            None
        }
        Resumed::Switched(Switch::Park(commit)) => {
            g.set_status(GStatus::Waiting);
            if let Some(p) = pg.as_mut() {
                PCounters::bump(&p.p.counters.parks, 1);
            }
            drop(pg);
            commit.run();
            // The G is off its stack and its waiter is registered. Either we
            // publish PARKED (and an unpark will ready it), or an unpark came
            // first and left NOTIFIED: then we run it again at once.
            match g.park.compare_exchange(
                PARK_EMPTY,
                PARK_PARKED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => None,
                Err(_) => {
                    g.park.store(PARK_EMPTY, Ordering::Relaxed);
                    if m.shared.p.lock().is_some() {
                        Some(g)
                    } else {
                        requeue_global(rt, m.shared.p.lock(), g);
                        None
                    }
                }
            }
        }
        Resumed::Switched(Switch::Spawn(child)) => {
            // Continuation stealing: the parent's continuation is queued where
            // thieves can find it; the child runs now on this M.
            g.set_status(GStatus::Runnable);
            match pg.as_mut() {
                Some(p) => {
                    p.push_runnext(g);
                    drop(pg);
                    idle::wakep(rt);
                    Some(child)
                }
                None => {
                    drop(pg);
                    rt.global.push(child);
                    requeue_global(rt, m.shared.p.lock(), g);
                    None
                }
            }
        }
        Resumed::Switched(Switch::Requeue) => {
            g.set_status(GStatus::Runnable);
            requeue_global(rt, pg, g);
            None
        }
        Resumed::Finished(stack) => {
            g.set_status(GStatus::Dead);
            crate::dump::unregister(&g);
            let size = g.stack_size.unwrap_or(rt.stacks.default_size());
            match pg.as_mut() {
                Some(p) => {
                    rt.stacks.free(stack, size, Some(&mut p.stacks));
                    PCounters::bump(&p.p.counters.exited, 1);
                }
                None => {
                    drop(pg);
                    rt.stacks.free(stack, size, None);
                    rt.exited_outside.fetch_add(1, Ordering::Relaxed);
                }
            }
            None
        }
    }
}

/// Gives a goroutine spawned without a stack (`CoroCell::unbound`) its
/// stack, from this P's cache when there is one, as it first runs.
fn bind_stack(rt: &'static Runtime, g: &GRef) {
    let stack = super::with_p(|p| rt.stacks.alloc(g.stack_size, Some(&mut p.stacks)))
        .unwrap_or_else(|| rt.stacks.alloc(g.stack_size, None));
    match stack {
        // SAFETY: this M owns `g` (see `execute`), which is unbound.
        Ok(stack) => unsafe { g.coro.bind(stack) },
        Err(e) => crate::throw(&format!(
            "goroutine {} cannot get a stack to start on: {e}",
            g.id.as_u64()
        )),
    }
}

/// Marks a goroutine starting or stopping on `m` (only `m` writes it).
#[inline]
fn bump_run_seq(m: &MLocal) {
    let seq = &m.shared.run_seq;
    seq.store(
        seq.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Queues `g` on the global queue (this M has no P) and wakes an M for it.
fn requeue_global(rt: &'static Runtime, pg: PGuard<'_>, g: GRef) {
    drop(pg);
    rt.global.push(g);
    idle::wakep(rt);
}

/// Finds a runnable G, sleeping if there is none. Returns with `m` holding a
/// P, or `None` when the M has been idle long enough to exit.
fn find_runnable(rt: &'static Runtime, m: &'static MLocal) -> Option<GRef> {
    loop {
        if let Some(g) = try_local_and_global(rt, m) {
            stop_spinning(rt, m);
            return Some(g);
        }
        // netpoll: non-blocking poll before stealing; readied Gs go to our P.
        if crate::netpoll::poll_ready() {
            continue;
        }
        if let Some(g) = try_steal(rt, m) {
            stop_spinning(rt, m);
            return Some(g);
        }
        match give_up_p(rt, m) {
            // Work appeared while we gave the P up, and we hold a P again.
            GiveUp::Retry => continue,
            GiveUp::Sleep => {
                debug_assert!(m.shared.p.lock().is_none() && !m.spinning.get());
                let wake = idle::stopm(&m.handle)?;
                *m.shared.p.lock() = Some(wake.p);
                m.spinning.set(wake.spinning);
            }
        }
    }
}

/// What [`give_up_p`] left us with.
enum GiveUp {
    /// We hold a P again: look for work once more.
    Retry,
    /// We hold no P and are not spinning: sleep.
    Sleep,
}

/// Steps 1–4, plus retiring a P above `maxprocs`.
fn try_local_and_global(rt: &'static Runtime, m: &'static MLocal) -> Option<GRef> {
    // Due timers first: their callbacks may ready goroutines into our P.
    crate::timer::run_due();
    let mut guard = m.shared.p.lock();
    let p = guard.as_mut()?;
    if p.p.id >= rt.maxprocs() {
        drop(guard);
        retire_p(rt, m);
        return None;
    }
    p.schedtick = p.schedtick.wrapping_add(1);
    PCounters::bump(&p.p.counters.schedticks, 1);
    if p.schedtick % GLOBAL_FAIRNESS_TICK == 0 {
        if let Some(g) = steal_one(&rt.global) {
            return Some(g);
        }
    }
    if p.runnext_streak < RUNNEXT_LIMIT {
        if let Some(g) = p.p.runnext.take() {
            p.runnext_streak += 1;
            return Some(g);
        }
    }
    p.runnext_streak = 0;
    if let Some(g) = p.local.pop() {
        return Some(g);
    }
    if let Some(g) = p.p.runnext.take() {
        return Some(g);
    }
    loop {
        match rt.global.steal_batch_and_pop(&p.local) {
            Steal::Success(g) => return Some(g),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

fn steal_one(q: &crossbeam_deque::Injector<GRef>) -> Option<GRef> {
    loop {
        match q.steal() {
            Steal::Success(g) => return Some(g),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Step 5: spin and steal, if few enough Ms are spinning already.
fn try_steal(rt: &'static Runtime, m: &'static MLocal) -> Option<GRef> {
    let mut guard = m.shared.p.lock();
    let p = guard.as_mut()?;
    let nprocs = rt.maxprocs();
    if !m.spinning.get() {
        let busy = nprocs.saturating_sub(rt.idle.npidle.load(Ordering::SeqCst));
        if 2 * rt.idle.nmspinning.load(Ordering::SeqCst) >= busy {
            return None;
        }
        m.spinning.set(true);
        rt.idle.nmspinning.fetch_add(1, Ordering::SeqCst);
    }
    let n = rt.all_ps().count();
    if n <= 1 {
        return None;
    }
    PCounters::bump(&p.p.counters.steal_attempts, 1);
    for pass in 0..STEAL_TRIES {
        let last = pass == STEAL_TRIES - 1;
        let start = (p.rand() % n as u64) as usize;
        for i in 0..n {
            let id = (start + i) % n;
            if id == p.p.id {
                continue;
            }
            let Some(victim) = rt.p(id) else { continue };
            loop {
                match victim.stealer.steal_batch_and_pop(&p.local) {
                    Steal::Success(g) => {
                        PCounters::bump(&p.p.counters.steals, 1);
                        PCounters::bump(&p.p.counters.stolen_gs, 1 + p.local.len() as u64);
                        return Some(g);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
            if last {
                if let Some(g) = victim.runnext.take() {
                    PCounters::bump(&p.p.counters.steals, 1);
                    PCounters::bump(&p.p.counters.stolen_gs, 1);
                    return Some(g);
                }
            }
        }
    }
    None
}

/// A spinning M that found work stops spinning; if it was the last spinner,
/// it wakes another so newly queued work keeps being looked at (Go's
/// `resetspinning`).
fn stop_spinning(rt: &'static Runtime, m: &'static MLocal) {
    if m.spinning.replace(false) {
        let prev = rt.idle.nmspinning.fetch_sub(1, Ordering::SeqCst);
        if prev == 1 {
            idle::wakep(rt);
        }
    }
}

/// Step 6: put the P on the idle list; a spinning M then re-checks every
/// queue (the other half of `wakep`'s handshake) and may take a P back.
fn give_up_p(rt: &'static Runtime, m: &'static MLocal) -> GiveUp {
    let Some(p) = m.shared.p.lock().take() else {
        // Retired: nothing to give up.
        drop_spinning(rt, m);
        return GiveUp::Sleep;
    };
    {
        let mut st = rt.idle.state();
        if !rt.global.is_empty() {
            drop(st);
            *m.shared.p.lock() = Some(p);
            return GiveUp::Retry;
        }
        rt.idle.put_p(&mut st, p);
    }
    if m.spinning.get() {
        drop_spinning(rt, m);
        // StoreLoad: pairs with the fence in `wakep`.
        fence(Ordering::SeqCst);
        if work_anywhere(rt) {
            let mut st = rt.idle.state();
            if let Some(p) = rt.idle.take_p(&mut st) {
                drop(st);
                *m.shared.p.lock() = Some(p);
                m.spinning.set(true);
                rt.idle.nmspinning.fetch_add(1, Ordering::SeqCst);
                return GiveUp::Retry;
            }
        }
    } else {
        // A non-spinning M re-checks the global queue too: a plain thread
        // may have pushed there after our check above but before `put_p`,
        // and its `wakep` then saw no idle P. put_p (a SeqCst store), the
        // fence, then the load here pair with push, fence, load in `wakep`.
        fence(Ordering::SeqCst);
        if !rt.global.is_empty() {
            let mut st = rt.idle.state();
            if let Some(p) = rt.idle.take_p(&mut st) {
                drop(st);
                *m.shared.p.lock() = Some(p);
                return GiveUp::Retry;
            }
        }
    }
    GiveUp::Sleep
}

/// Stops counting this M as spinning, without waking anyone.
fn drop_spinning(rt: &Runtime, m: &MLocal) {
    if m.spinning.replace(false) {
        rt.idle.nmspinning.fetch_sub(1, Ordering::SeqCst);
    }
}

fn work_anywhere(rt: &Runtime) -> bool {
    !rt.global.is_empty()
        || rt
            .all_ps()
            .any(|p| !p.stealer.is_empty() || !p.runnext.is_empty())
}

/// Hands a P above `maxprocs` back: its queue goes to the global queue and
/// the P to the retired list. The M then finds no P and goes to sleep.
fn retire_p(rt: &'static Runtime, m: &'static MLocal) {
    let Some(mut p) = m.shared.p.lock().take() else {
        return;
    };
    p.drain_into(&rt.global);
    let mut st = rt.idle.state();
    if p.p.id < rt.maxprocs() {
        // `maxprocs` grew back meanwhile: keep running it.
        drop(st);
        *m.shared.p.lock() = Some(p);
        return;
    }
    st.retired.push(p);
    drop(st);
    drop_spinning(rt, m);
    idle::wakep(rt);
}
