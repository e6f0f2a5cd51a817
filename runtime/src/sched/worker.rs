//! M: an OS thread running goroutines, and how it finds the next one.
//!
//! Owns: the M loop (`schedule`), work finding in Go's order
//! (`find_runnable`), and what happens after a goroutine switches back
//! (`execute`): requeue after a yield, run the commit closure after a park,
//! queue the parent and run the child after a spawn, recycle the record and
//! stack after an exit.
//!
//! Work finding, in order:
//! 1. every 61st pass (the P's tick, bumped by every `POwned::next`), one
//!    G from the global queue (so it is never starved);
//! 2. `runnext` (inheriting the time slice), unless sysmon asked for a
//!    rotation (`p.rs`);
//! 3. the local queue, then the continuation stack;
//! 4. a batch from the global queue;
//! 5. spinning (at most half the busy Ps): steal half of a random victim's
//!    queues, four passes over the Ps in random order, taking victims'
//!    `runnext` only on the last pass;
//! 6. give the P back and sleep (`idle.rs` has the no-lost-wake-up protocol).
//!
//! Must never: run goroutine code on the M's own stack, hold the P slot's
//! lock across a resume or a wake-up of another M, or block while holding a
//! P except in `stopm` (which releases it first).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::idle::{self, GaveUp, MHandle, MustWake, Wake};
use super::m::{set_current_m, Locked, MCounters, MLocal, MShared};
use super::p::{bump, Source};
use super::pcell::PCell;
use super::{free_g, runtime, Runtime};
use crate::coro::Resumed;
use crate::g::{self, GPtr, GStatus, Release, Switch};
use crate::stack::GoStack;

/// Passes over the victims when stealing (Go: 4).
const STEAL_TRIES: usize = 4;

/// How long a thief waits before taking a victim's `runnext` (Go: 3 µs).
const RUNNEXT_GRACE: std::time::Duration = std::time::Duration::from_micros(3);

/// Starts a new M running `wake.p`.
pub(crate) fn spawn_m(id: usize, wake: Wake) {
    // A thread inherits some of its creator's state (`unshare(CLONE_FS)`'s
    // working directory, namespaces, the signal mask). An M wired to a
    // goroutine may have been changed on purpose (`lock_os_thread`), so it
    // never creates Ms itself: the template thread does (Go's `newmHandoff`).
    if super::current_m().is_some_and(|m| m.locked.get() != super::m::Locked::No) {
        if let Some(template) = TEMPLATE.get() {
            if template.send((id, wake)).is_ok() {
                return;
            }
            crate::throw("the template thread is gone");
        }
    }
    spawn_m_here(id, wake);
}

/// The template thread's queue (Go's `newmHandoff`): Ms to create on a
/// thread no goroutine ever ran on. Started by [`start_template_thread`].
static TEMPLATE: std::sync::OnceLock<std::sync::mpsc::Sender<(usize, Wake)>> =
    std::sync::OnceLock::new();

/// Starts the template thread if it is not running. `lock_os_thread` calls
/// it before wiring a goroutine to its thread, so the template is created
/// from a thread nobody has changed yet (Go's `startTemplateThread`).
///
/// # Panics
/// If the system refuses the thread: in the caller of `lock_os_thread`,
/// which has changed nothing yet (the goroutine is not wired). The next
/// call tries again.
#[track_caller]
pub(crate) fn start_template_thread() {
    if TEMPLATE.get().is_some() {
        return;
    }
    if let Err(e) = try_start_template_thread() {
        panic!(
            "weft::lock_os_thread: cannot create the template thread (it starts \
             the threads of new Ms while a goroutine is locked to its own): {e} \
             (the limits that apply: RLIMIT_NPROC (ulimit -u), a pids cgroup \
             (pids.max), kernel.threads-max, RLIMIT_AS); the goroutine is not locked"
        );
    }
}

#[cold]
fn try_start_template_thread() -> std::io::Result<()> {
    static STARTING: crate::loom::sync::StdMutex<()> = crate::loom::sync::StdMutex::new(());
    let _one = STARTING.lock();
    if TEMPLATE.get().is_some() {
        return Ok(());
    }
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Wake)>();
    // Counted with the runtime's other threads (the deadlock check
    // accounts for every thread of the process).
    super::spawn_aux("weft-template", move || {
        for (id, wake) in rx {
            spawn_m_here(id, wake);
        }
    })?;
    let _ = TEMPLATE.set(tx);
    Ok(())
}

fn spawn_m_here(id: usize, wake: Wake) {
    let handle = MHandle::new(id);
    // A refused thread gives the P back (`m.rs`).
    super::m::create_thread(runtime(), id, wake, move |wake| m_main(handle, wake));
}

fn m_main(handle: Arc<MHandle>, wake: Wake) {
    let shared: &'static MShared = Box::leak(Box::new(MShared {
        id: handle.id,
        p: PCell::new(Some(wake.p)),
        blocking_seq: AtomicU64::new(0),
        run_seq: AtomicU64::new(0),
        running: AtomicUsize::new(0),
        // SAFETY: gettid has no preconditions.
        tid: unsafe { libc::gettid() },
        exited: AtomicBool::new(false),
        counters: MCounters::default(),
    }));
    let m: &'static MLocal = Box::leak(Box::new(MLocal {
        handle,
        shared,
        spinning: Cell::new(wake.spinning),
        in_blocking: Cell::new(false),
        locked: Cell::new(Locked::No),
        lock_depth: Cell::new(0),
    }));
    let rt = runtime();
    rt.all_ms.lock().push(shared);
    set_current_m(m);
    crate::stack::on_thread_start();
    let _guard = AbortOnUnwind;
    schedule(rt, m);
    // Leave the list sysmon and stats walk, folding our counters into the
    // runtime's so no count is lost.
    let mut ms = rt.all_ms.lock();
    ms.retain(|x| !std::ptr::eq(*x, shared));
    rt.outside.absorb(&shared.counters);
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

/// The M loop. Returns only when the M has been idle long enough to exit,
/// or its locked goroutine exited.
fn schedule(rt: &'static Runtime, m: &'static MLocal) {
    let mut next: Option<GPtr> = None;
    loop {
        let g = match next.take() {
            Some(g) => g,
            None => match m.locked.get() {
                Locked::No => match find_runnable(rt, m) {
                    Some(g) => g,
                    None => return,
                },
                Locked::To(g) => {
                    super::locked::stop_locked_m(rt, m);
                    g
                }
                Locked::Exit => {
                    super::locked::exit_locked_m(rt, m);
                    return;
                }
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
fn execute(rt: &'static Runtime, m: &'static MLocal, g: GPtr) -> Option<GPtr> {
    let wired = g.locked_m();
    if !wired.is_null() && !std::ptr::eq(wired, (m as *const MLocal).cast()) {
        // Locked to another M (`lock_os_thread`): that M runs it, on our P.
        super::locked::hand_to_locked_m(rt, m, g, wired);
        return None;
    }
    g.set_status(GStatus::Running);
    // SAFETY: this M owns `g` (taken from a run queue or handed over by the
    // previous step of this loop: coro.rs invariant 1).
    if unsafe { g.coro.is_unbound() } {
        if let Err(e) = bind_stack(rt, g) {
            refuse_start(m, g, e);
            return None;
        }
    }
    g::set_current(Some(g));
    m.shared
        .running
        .store(g.as_ptr() as usize, Ordering::Relaxed);
    m.shared.bump_run_seq();
    // Hooks: lockrank (debug builds only); trace (the run's slice starts).
    crate::lockrank::assert_none_held("resuming a goroutine");
    crate::trace::go_start(g, || {
        m.shared.p.lock().as_ref().map(|p| (p.p.id, p.p.queued()))
    });
    // SAFETY: this M owns `g` (taken from a run queue or handed over by the
    // previous step of this loop: coro.rs invariant 1), and `bind_stack`
    // above gave it a stack if it had none.
    let resumed = unsafe { g.coro.resume() };
    crate::trace::go_stop(g, &resumed); // trace: the run's slice ends here
    m.shared.bump_run_seq();
    g::set_current(None);
    match resumed {
        Resumed::Switched(Switch::Park(commit)) => {
            g.set_status(GStatus::Waiting);
            bump(&m.shared.counters.parks, 1);
            commit.run();
            // The G is off its stack and its wait record is visible. Either
            // we publish PARKED (and a waker readies it), or a waker came
            // first and left a token: then we run it again at once.
            if g.park.publish_parked() {
                return None;
            }
            if m.shared.p.lock().is_some() {
                Some(g)
            } else {
                requeue_global(rt, g);
                None
            }
        }
        Resumed::Switched(Switch::Yield) => {
            g.set_status(GStatus::Runnable);
            let mut pg = m.shared.p.lock();
            match pg.as_mut() {
                Some(p) => p.push_yield(g),
                None => {
                    drop(pg);
                    requeue_global(rt, g);
                }
            }
            None
        }
        Resumed::Switched(Switch::Spawn(child)) => {
            // Continuation stealing: the parent's continuation is queued where
            // thieves can find it; the child runs now on this M.
            g.set_status(GStatus::Runnable);
            let mut pg = m.shared.p.lock();
            match pg.as_mut() {
                Some(p) => {
                    p.push_cont(g);
                    p.new_slice();
                    drop(pg);
                    idle::wakep(rt);
                    Some(child)
                }
                None => {
                    drop(pg);
                    rt.global.push(child);
                    requeue_global(rt, g);
                    None
                }
            }
        }
        Resumed::Switched(Switch::Requeue) => {
            g.set_status(GStatus::Runnable);
            requeue_global(rt, g);
            None
        }
        Resumed::Finished(stack) => {
            if !g.locked_m().is_null() {
                // Exited locked: unwire it before the record is recycled;
                // the thread exits with it.
                super::locked::unwire_exited(m, g);
            }
            exit_g(rt, m, g, stack);
            None
        }
    }
}

/// A goroutine's body returned: its stack goes back to the cache, its
/// joiner (if any) is woken, and its record is recycled once nobody refers
/// to it. The body has already handed its result to the handle, or dropped
/// it on its own stack (`g::Life`): no user code runs here.
fn exit_g(rt: &'static Runtime, m: &'static MLocal, g: GPtr, stack: GoStack) {
    g.set_status(GStatus::Dead);
    match g.stack_size() {
        None => {
            let spill = match m.shared.p.lock().as_mut() {
                Some(p) => p.stacks.push(stack),
                None => Some(vec![stack]),
            };
            if let Some(spill) = spill {
                rt.stacks.give_back(spill);
            }
        }
        Some(size) => rt.stacks.free(stack, size, None),
    }
    // Counted once its stack is free: a refused spawn that saw no exit
    // since its refusal would find no stack either (`sched::Refusal`).
    bump(&m.shared.counters.exited, 1);
    release(g);
}

/// The end of [`exit_g`], also for a goroutine that never started
/// (`refuse_start`): its joiner (if any) is woken, and its record recycled
/// once nobody refers to it.
#[inline(always)]
fn release(g: GPtr) {
    // Everything before touched the record: from here, only what `exit`
    // allows.
    let exit = g.life.exit();
    if exit.joiner {
        // SAFETY: `Life::exit` reported a joiner and this is its one wake;
        // the joiner holds the handle until woken, so the record is alive.
        unsafe { g.wake_joiner() };
    }
    if exit.release == Release::Recycle {
        // SAFETY: `Life::exit` returned Recycle: the handle and every
        // `Unparker` let go before this M did, so nothing refers to `g`.
        unsafe { free_g(g) };
    }
}

/// Gives a goroutine spawned without a stack (`CoroCell::start_unbound`)
/// its stack as it first runs: from this P's cache, else from the pool. The
/// error (no stack anywhere, `sched::alloc_stack_or_reclaim`) names the
/// limit that refused it.
#[inline(never)]
fn bind_stack(rt: &'static Runtime, g: GPtr) -> std::io::Result<()> {
    let size = g.stack_size();
    let cached = match size {
        None => super::current_m().and_then(|m| m.shared.p.lock().as_mut()?.stacks.pop()),
        Some(_) => None,
    };
    let stack = match cached {
        Some(s) => s,
        None => super::alloc_stack_or_reclaim(rt, size)?,
    };
    // SAFETY: this M owns `g` (see `execute`), which is unbound.
    unsafe { g.coro.bind(stack) };
    Ok(())
}

/// A goroutine that cannot get a stack to start on (`e`) never starts: it
/// finishes as if it had panicked before its first line. Its body runs
/// here, on the M's own stack (`CoroCell::run_unbound_here`), and sees that
/// it has no goroutine stack (`spawn.rs`, `refused`): it panics with the
/// message set here (the panic hook reports it as this goroutine's, and
/// `join` returns it), then drops its closure unrun.
///
/// That closure's captures are user code: they run as a blocking section
/// (as timer callbacks do, `callback_section`), so one that parks parks
/// the thread and one that takes long loses the P to sysmon.
#[cold]
#[inline(never)]
fn refuse_start(m: &'static MLocal, g: GPtr, e: std::io::Error) {
    let site = g
        .spawn_site()
        .map_or_else(String::new, |s| format!(", created by {s}"));
    super::set_start_refusal(format!(
        "weft: goroutine {} could not start{site}: {e}",
        g.id()
    ));
    m.in_blocking.set(true);
    g::set_blocking(Some(g));
    m.shared.bump_blocking_seq();
    super::sysmon::poke();
    // SAFETY: this M owns `g` (see `execute`), which is unbound; its body
    // never unwinds (`spawn.rs`, `body`).
    unsafe { g.coro.run_unbound_here() };
    m.shared.bump_blocking_seq();
    m.in_blocking.set(false);
    g::set_blocking(None);
    g::set_current(None);
    g.set_status(GStatus::Dead);
    super::REFUSED_STARTS.fetch_add(1, Ordering::Relaxed);
    bump(&m.shared.counters.exited, 1);
    release(g);
}

/// Queues `g` on the global queue (this M has no P) and wakes an M for it.
fn requeue_global(rt: &'static Runtime, g: GPtr) {
    rt.global.push(g);
    idle::wakep(rt);
}

/// Finds a runnable G, sleeping if there is none. Returns with `m` holding a
/// P, or `None` when the M has been idle long enough to exit.
fn find_runnable(rt: &'static Runtime, m: &'static MLocal) -> Option<GPtr> {
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
                debug_assert!(m.shared.p.lock().is_none());
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

/// Runs the callbacks of the due timers: the one place timers fire. Only
/// an M does it, in its scheduler loop (`find_runnable`) or, with the timer
/// role, when it wakes from sleep for a deadline (`idle::stopm`); never
/// sysmon, never a goroutine. A callback that readies a goroutine puts it
/// on this M's P when it has one.
///
/// User callbacks run as a blocking section (as inside `blocking()`): one
/// that takes long, blocks its thread or parks (which parks the thread)
/// loses the M's P to sysmon like a long `blocking()` call, and a parked
/// one counts as asleep for the deadlock detector. The runtime's own
/// wake-ups (a `sleep` ending) run directly (`timer::run_due`). Cheap when
/// nothing is due: one atomic load, plus a clock read when a timer is
/// queued.
#[inline]
pub(crate) fn fire_timers() {
    if crate::timer::due() {
        fire_due_timers();
    }
}

#[cold]
fn fire_due_timers() {
    crate::timer::run_due(&callback_section);
}

/// Runs a batch of timer callbacks as a blocking section of this M.
fn callback_section(callbacks: &mut dyn FnMut()) {
    let Some(m) = super::current_m() else {
        return callbacks();
    };
    m.in_blocking.set(true);
    m.shared.bump_blocking_seq();
    super::sysmon::poke();
    callbacks();
    m.shared.bump_blocking_seq();
    m.in_blocking.set(false);
}

/// Steps 1–4, plus retiring a P above `maxprocs`.
#[inline]
fn try_local_and_global(rt: &'static Runtime, m: &'static MLocal) -> Option<GPtr> {
    // Due timers first: their callbacks may ready goroutines into our P.
    fire_timers();
    let mut guard = m.shared.p.lock();
    let p = guard.as_mut()?;
    if p.p.id >= rt.maxprocs() {
        drop(guard);
        retire_p(rt, m);
        return None;
    }
    let (g, source) = p.next(&rt.global)?;
    if let Source::NewSlice = source {
        p.new_slice();
    }
    Some(g)
}

/// Step 5: spin and steal, if few enough Ms are spinning already.
fn try_steal(rt: &'static Runtime, m: &'static MLocal) -> Option<GPtr> {
    let mut guard = m.shared.p.lock();
    let p = guard.as_mut()?;
    let spinning = match m.spinning.take() {
        Some(t) => t,
        None => rt.idle.try_spin(rt.maxprocs())?,
    };
    m.spinning.set(Some(spinning));
    let n = rt.all_ps().count();
    if n <= 1 {
        return None;
    }
    bump(&p.p.counters.steal_attempts, 1);
    for pass in 0..STEAL_TRIES {
        let last = pass == STEAL_TRIES - 1;
        let start = (p.rand() % n as u64) as usize;
        for i in 0..n {
            let id = (start + i) % n;
            if id == p.p.id {
                continue;
            }
            let Some(victim) = rt.p(id) else { continue };
            if let Some(g) = victim.steal_into(p.local_worker()) {
                crate::trace::steal(id, g); // trace: a steal arrow
                bump(&p.p.counters.steals, 1);
                bump(&p.p.counters.stolen_gs, 1 + p.local_worker().len() as u64);
                p.new_slice();
                return Some(g);
            }
            if last {
                if let Some(g) = victim.steal_runnext(RUNNEXT_GRACE) {
                    crate::trace::steal(id, g); // trace: a steal arrow
                    bump(&p.p.counters.steals, 1);
                    bump(&p.p.counters.stolen_gs, 1);
                    p.new_slice();
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
    if let Some(t) = m.spinning.take() {
        if rt.idle.stop_spinning(t) == MustWake::Yes {
            idle::wakep(rt);
        }
    }
}

/// Step 6: put the P on the idle list; a spinning M then re-checks every
/// queue (the other half of `wakep`'s handshake: `Idle::give_up_p`) and may
/// take a P back.
fn give_up_p(rt: &'static Runtime, m: &'static MLocal) -> GiveUp {
    let Some(p) = m.shared.p.lock().take() else {
        // No P: it was retired, or sysmon retook it while a timer callback
        // ran here (a blocking section). If we were spinning, work may have
        // been left to our token: `Idle::spinner_lost_p` drops it and looks
        // once more.
        if let Some(t) = m.spinning.take() {
            if rt.idle.spinner_lost_p(t, || work_anywhere(rt)) == MustWake::Yes {
                idle::wakep(rt);
            }
        }
        return GiveUp::Sleep;
    };
    match rt.idle.give_up_p(
        p,
        m.spinning.take(),
        rt.maxprocs(),
        || !rt.global.is_empty(),
        || work_anywhere(rt),
    ) {
        GaveUp::Retry(p, spinning) => {
            *m.shared.p.lock() = Some(p);
            m.spinning.set(spinning);
            GiveUp::Retry
        }
        GaveUp::Sleep => GiveUp::Sleep,
    }
}

/// Stops counting this M as spinning, without waking anyone.
fn drop_spinning(rt: &Runtime, m: &MLocal) {
    if let Some(t) = m.spinning.take() {
        rt.idle.drop_spinning(t);
    }
}

fn work_anywhere(rt: &Runtime) -> bool {
    !rt.global.is_empty() || rt.all_ps().any(|p| p.has_work())
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
