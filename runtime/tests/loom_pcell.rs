//! loom models of the P slot's lock (`runtime/src/sched/pcell.rs`) in its
//! three modes, run on the slot's real code through
//! `weft_runtime::loom_api::SpinCell`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p weft-runtime --test loom_pcell
//! ```
//!
//! loom has no kernel, so the slot's barrier is modelled as what the kernel
//! promises: `membarrier`, and the fallback's SIGURG, each make the owner's
//! thread run a full fence at some point of its own execution during the
//! call. The owner's thread takes such an interruption at every point of
//! its lock path (`SpinCell::interruptible`, which the lock calls between
//! its steps, and which the models call while the owner waits for the
//! remotes to finish); loom tries each point. Each model asserts that the
//! owner and the remotes never touch the value at once (loom's cell
//! checks every access) and that every increment of each side is there at
//! the end.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, Ordering::*};
use loom::sync::Arc;
use loom::thread;

use weft_runtime::loom_api::{Barrier, SpinCell};

/// Runs `f` under loom with a preemption bound (`WEFT_LOOM_BOUND`
/// overrides it; 0 means none).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    let bound = std::env::var("WEFT_LOOM_BOUND").map_or(bound, |v| v.parse().unwrap());
    b.preemption_bound = (bound > 0).then_some(bound);
    b.check(f);
}

/// The owner takes the slot `owner_rounds` times while a remote takes it
/// `remote_rounds` times; the owner's thread stays interruptible until the
/// remote is done (a real thread takes a signal anywhere).
fn owner_vs_remote(barrier: Barrier, owner_rounds: u32, remote_rounds: u32) {
    let cell = Arc::new(SpinCell::with_barrier((0u32, 0u32), barrier));
    let done = Arc::new(AtomicBool::new(false));
    let (c, d) = (cell.clone(), done.clone());
    let remote = thread::spawn(move || {
        for _ in 0..remote_rounds {
            c.with_remote(|v| v.1 += 1);
        }
        d.store(true, Release);
    });
    for _ in 0..owner_rounds {
        cell.with(|v| v.0 += 1);
    }
    while !done.load(Acquire) {
        cell.interruptible();
        thread::yield_now();
    }
    remote.join().unwrap();
    assert_eq!(cell.with(|v| *v), (owner_rounds, remote_rounds));
}

/// membarrier works: the owner pays only a compiler fence, each remote
/// interrupts it. Fails if the owner takes its reads before its flag write
/// as the interruption sees them, or if a remote skips the barrier.
#[test]
fn p_slot_asymmetric_excludes() {
    model(3, || owner_vs_remote(Barrier::Membarrier, 2, 2));
}

/// membarrier refused after start: the first remote turns the slot fenced
/// and interrupts the owner (which may be anywhere in an attempt that read
/// the slot unfenced); the second only fences. Fails if the owner ignores
/// `fenced`, or if the first remote fences without interrupting.
#[test]
fn p_slot_switch_to_fenced_excludes() {
    model(3, || owner_vs_remote(Barrier::RefusedLater, 2, 2));
}

/// `WEFT_DEBUG=membarrier=0`: born fenced, both sides fence, no
/// interruption at all.
#[test]
fn p_slot_born_fenced_excludes() {
    model(3, || owner_vs_remote(Barrier::Fenced, 2, 2));
}
