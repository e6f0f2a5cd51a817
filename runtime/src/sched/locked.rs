//! Goroutines wired to one OS thread (Go's `LockOSThread`).
//!
//! Owns: the wiring between a goroutine and its M (`G::locked_m`,
//! `MLocal::locked`, `MLocal::lock_depth`) and the three hand-overs it needs,
//! after Go's `lockOSThread`, `stoplockedm`, `startlockedm` and the locked
//! branch of `goexit0`:
//!
//! 1. **The goroutine stops** (parks, yields, requeues itself after
//!    `blocking()`): its M runs nothing else, so it hands its P to another
//!    M ([`idle::handoff_p`], as sysmon does for a blocked M) and sleeps on
//!    its handle, holding no P ([`stop_locked_m`]).
//! 2. **The goroutine is readied** into some run queue like any other. The
//!    M that takes it from there sees it is wired elsewhere (`execute`
//!    reads `G::locked_m`: one relaxed load, null for every unlocked
//!    goroutine), hands *its own P* to the wired M together with the
//!    goroutine, and goes looking for work without a P, so it sleeps
//!    ([`hand_to_locked_m`]). The wired M wakes holding that P and resumes
//!    the goroutine. Exactly one M owns a runnable goroutine, so exactly one
//!    M ever hands it over; the handle's slot holds the P until the wired M
//!    takes it, whether it already sleeps or is still giving up its old P.
//! 3. **The goroutine exits locked**: it is unwired before its record is
//!    recycled, its M gives its P away and the thread exits
//!    ([`exit_locked_m`]): it may have been put in a state (a namespace,
//!    a signal mask, thread-local data) nobody else should inherit.
//!
//! A locked goroutine's spawns never use continuation stealing (that would
//! queue the goroutine itself where another M could take it): the child is
//! queued and the parent goes on (`sched::start_g`).
//!
//! Must never: let a wired M run another goroutine, let a locked goroutine
//! run on another M, or keep a P while the wired M sleeps.

use std::ptr;

use super::idle::{self, Wake};
use super::m::{current_m, Locked, MLocal};
use super::Runtime;
use crate::g::GPtr;

/// `lock_os_thread` on the running goroutine `g` (the caller is `g`, on
/// its M, possibly inside `blocking`).
pub(crate) fn lock(g: GPtr) {
    let Some(m) = current_m() else { return };
    let depth = m.lock_depth.get();
    let Some(next) = depth.checked_add(1) else {
        panic!("weft::lock_os_thread: nested more than {} times", u32::MAX);
    };
    m.lock_depth.set(next);
    if depth == 0 {
        g.set_locked_m((m as *const MLocal).cast());
        m.locked.set(Locked::To(g));
    }
}

/// `unlock_os_thread` on the running goroutine `g`. Unbalanced calls do
/// nothing (Go's rule).
pub(crate) fn unlock(g: GPtr) {
    // Not locked: nothing to undo. Locked: we run on the wired M.
    if g.locked_m().is_null() {
        return;
    }
    let Some(m) = current_m() else { return };
    let depth = m.lock_depth.get();
    m.lock_depth.set(depth - 1);
    if depth == 1 {
        g.set_locked_m(ptr::null());
        m.locked.set(Locked::No);
    }
}

/// Step 1: the locked goroutine stopped and is not runnable here; give
/// our P away and sleep until the goroutine comes back with a P.
pub(crate) fn stop_locked_m(rt: &'static Runtime, m: &'static MLocal) {
    if let Some(t) = m.spinning.take() {
        rt.idle.drop_spinning(t);
    }
    let p = m.shared.p.lock().take();
    if let Some(p) = p {
        idle::handoff_p(rt, p);
    }
    let wake = m.handle.wait_handed();
    *m.shared.p.lock() = Some(wake.p);
    debug_assert!(wake.spinning.is_none());
}

/// Step 2: `g`, just taken from a run queue by `m`, is wired to the M at
/// `wired`: hand it our P; it runs `g` there.
#[cold]
pub(crate) fn hand_to_locked_m(
    rt: &'static Runtime,
    m: &'static MLocal,
    g: GPtr,
    wired: *const (),
) {
    // SAFETY: `wired` was stored by `lock` from a `&'static MLocal` (Ms are
    // never freed), and stays set while `g` is locked.
    let target: &'static MLocal = unsafe { &*wired.cast::<MLocal>() };
    let p = m.shared.p.lock().take();
    match p {
        Some(p) => target.handle.hand(Wake { p, spinning: None }),
        // No P to give (sysmon took it): let an M with one find `g`.
        None => {
            rt.global.push(g);
            idle::wakep(rt);
        }
    }
}

/// Step 3, on the M: `g` finished while locked; unwire it (its record may
/// be recycled next) and mark the M to exit.
pub(crate) fn unwire_exited(m: &'static MLocal, g: GPtr) {
    g.set_locked_m(ptr::null());
    m.lock_depth.set(0);
    m.locked.set(Locked::Exit);
}

/// Step 3, the M's last act: give the P away and leave the M count; the
/// caller returns from the M loop and the thread exits.
pub(crate) fn exit_locked_m(rt: &'static Runtime, m: &'static MLocal) {
    if let Some(t) = m.spinning.take() {
        rt.idle.drop_spinning(t);
    }
    let p = m.shared.p.lock().take();
    if let Some(p) = p {
        idle::handoff_p(rt, p);
    }
    rt.idle.forget_m();
}
