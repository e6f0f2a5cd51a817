//! Stack switching: the goroutine's coroutine and the two ways across it.
//!
//! Owns: the corosensei `Coroutine` of every goroutine, and the only code
//! that resumes one (`CoroCell::resume`, called by an M's scheduler loop) or
//! suspends one (`suspend`, called on the goroutine's own stack).
//!
//! This is one of the few modules with `unsafe` code. The invariants it
//! relies on, stated once:
//!
//! 1. **Exclusive resume.** A G is in at most one place at a time: a run
//!    queue, a `runnext` slot, an M, or parked (owned by whoever will unpark
//!    it). Only the M that took it from a queue resumes it. So at most one
//!    thread ever touches a `CoroCell`'s coroutine at a time, and the
//!    hand-over between Ms goes through the run queues' release/acquire
//!    synchronisation.
//! 2. **Migration.** corosensei's `Coroutine` is `!Send` because code on the
//!    coroutine's stack may have cached thread-local addresses. weft moves
//!    suspended goroutines between OS threads on purpose. The runtime never
//!    keeps a thread-local reference across a suspension point: it re-reads
//!    the current M through the `#[inline(never)]` accessor in `sched` after
//!    every switch. The user-facing rule (no `thread_local!` reference, std
//!    `MutexGuard` or `RefCell` borrow held across a blocking call) is
//!    documented on the crate.
//! 3. **Commit closures.** `Switch::Park` carries a pointer to a closure on
//!    the suspended goroutine's stack. The scheduler calls it after the switch
//!    and before the G can be resumed (a G is resumed only by the M that
//!    readies it, and readying a parking G waits for the commit, see
//!    `park.rs`), so the closure is alive and nobody else touches it.
//!
//! Must never: allocate on the switch path, let a panic unwind across a
//! switch, or resume a coroutine from two threads.

use std::cell::UnsafeCell;
use std::mem::{self, ManuallyDrop};
use std::ptr;

use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::g::GRef;
use crate::stack::asan::Fiber;
use crate::stack::GoStack;

/// Why a goroutine gave control back to its M.
pub(crate) enum Switch {
    /// `yield_now`: requeue at the back of the local run queue.
    Yield,
    /// Park: run the commit closure, then wait for an unpark.
    Park(Commit),
    /// Continuation stealing: queue this goroutine, run the child now.
    Spawn(GRef),
    /// Back from `blocking()` and no P to run on: queue this goroutine on
    /// the global queue; the M goes idle.
    Requeue,
}

/// A commit closure living on a suspended goroutine's stack.
pub(crate) struct Commit(*mut (dyn FnMut() + 'static));

impl Commit {
    /// Runs the closure.
    pub fn run(self) {
        // SAFETY: invariant 3 in the module comment: the closure is on the
        // stack of the goroutine that just suspended with this `Commit`, which
        // cannot be resumed until after this call returns.
        unsafe { (*self.0)() }
    }
}

type Coro = Coroutine<(), Switch, (), GoStack>;

/// What resuming a goroutine led to.
pub(crate) enum Resumed {
    /// It suspended itself for this reason.
    Switched(Switch),
    /// It finished; here is its stack for reuse.
    Finished(GoStack),
}

/// A goroutine's coroutine plus the address of its `Yielder`.
pub(crate) struct CoroCell {
    coro: UnsafeCell<Body>,
    /// Set by the coroutine itself on first run; read only on its own stack.
    yielder: UnsafeCell<*const Yielder<(), Switch>>,
    /// What AddressSanitizer is told at each switch (`stack/asan.rs`;
    /// zero-sized without `cfg(weft_asan)`).
    fiber: Fiber,
}

/// A goroutine's code, before and after it has a stack.
enum Body {
    /// Not run yet and no stack bound (see [`CoroCell::unbound`]).
    Unbound(Box<dyn FnOnce() + Send>),
    /// A coroutine on its stack: started or not, not finished.
    Live(Coro),
    /// Finished; the stack went back to the pool.
    Gone,
}

// SAFETY: invariant 1 (exclusive resume) and invariant 2 (migration) in the
// module comment: the coroutine is touched by one thread at a time, handed
// over through the run queues' synchronisation, and no thread-local address
// is cached across a suspension point by runtime code.
unsafe impl Send for CoroCell {}
// SAFETY: as for `Send`: shared references to a `CoroCell` exist (the `G` is
// in an `Arc`), but only the M that owns the G dereferences its contents.
unsafe impl Sync for CoroCell {}

fn coroutine(fiber: &Fiber, stack: GoStack, body: impl FnOnce() + Send + 'static) -> Coro {
    fiber.set_stack(&stack);
    Coroutine::with_stack(stack, move |y: &Yielder<(), Switch>, ()| {
        let fiber = register_yielder(y);
        body();
        // SAFETY: `fiber` is in the G, which its M keeps alive while the G
        // runs; the switch out of the finished coroutine comes next, and
        // corosensei only returns through frames made before `entered`.
        unsafe { (*fiber).finishing() };
    })
}

impl CoroCell {
    /// Prepares a coroutine that will run `body` on `stack`. `body` must not
    /// unwind: the caller catches panics inside it.
    pub fn new(stack: GoStack, body: impl FnOnce() + Send + 'static) -> CoroCell {
        let fiber = Fiber::default();
        CoroCell {
            coro: UnsafeCell::new(Body::Live(coroutine(&fiber, stack, body))),
            yielder: UnsafeCell::new(ptr::null()),
            fiber,
        }
    }

    /// A goroutine that gets its stack only when an M first runs it
    /// ([`CoroCell::bind`]). A queued goroutine then costs its closure, not
    /// a stack: under child stealing a spawner can queue a million children
    /// before any runs, and those that finish hand their stack straight to
    /// the next, so the pool stays warm instead of touching fresh pages.
    pub fn unbound(body: impl FnOnce() + Send + 'static) -> CoroCell {
        CoroCell {
            coro: UnsafeCell::new(Body::Unbound(Box::new(body))),
            yielder: UnsafeCell::new(ptr::null()),
            fiber: Fiber::default(),
        }
    }

    /// Whether this goroutine still needs a stack ([`CoroCell::bind`]).
    ///
    /// # Safety
    /// As for [`CoroCell::resume`]: the caller is the M that owns the G.
    pub unsafe fn is_unbound(&self) -> bool {
        // SAFETY: exclusive access by the caller's contract.
        matches!(unsafe { &*self.coro.get() }, Body::Unbound(_))
    }

    /// Gives an unbound goroutine its stack.
    ///
    /// # Safety
    /// As for [`CoroCell::resume`]; and the goroutine is unbound.
    pub unsafe fn bind(&self, stack: GoStack) {
        // SAFETY: exclusive access by the caller's contract.
        let slot = unsafe { &mut *self.coro.get() };
        let Body::Unbound(body) = mem::replace(slot, Body::Gone) else {
            unreachable!("weft: bound a stack to a goroutine that has one");
        };
        *slot = Body::Live(coroutine(&self.fiber, stack, body));
    }

    /// Runs the goroutine until it suspends or finishes.
    ///
    /// # Safety
    /// The caller is the M that owns this goroutine (invariant 1), has bound
    /// it a stack, and has made it the current G of this thread, so that
    /// `register_yielder` and `suspend` find this cell.
    pub unsafe fn resume(&self) -> Resumed {
        // SAFETY: exclusive access by the caller's contract.
        let slot = unsafe { &mut *self.coro.get() };
        let Body::Live(coro) = slot else {
            unreachable!("weft: resumed a goroutine without a live coroutine");
        };
        let on_m = self.fiber.resuming();
        let result = coro.resume(());
        Fiber::back_on_m(on_m);
        match result {
            CoroutineResult::Yield(s) => Resumed::Switched(s),
            CoroutineResult::Return(()) => {
                let Body::Live(coro) = mem::replace(slot, Body::Gone) else {
                    unreachable!("weft: goroutine vanished");
                };
                Resumed::Finished(coro.into_stack())
            }
        }
    }
}

impl Drop for CoroCell {
    fn drop(&mut self) {
        if let Body::Live(coro) = mem::replace(self.coro.get_mut(), Body::Gone) {
            if coro.started() && !coro.done() {
                // A goroutine parked forever whose last reference went away
                // (Go leaks these too). Unwinding its stack here would run its
                // destructors on whatever thread dropped it, in the middle of
                // someone else's code; leak the stack instead.
                let _leaked = ManuallyDrop::new(coro);
            }
            // Not started: dropping frees the closure.
        }
    }
}

/// The first thing every goroutine does: remember where its `Yielder` is
/// (and tell the sanitizer it runs). Returns the G's [`Fiber`], for its last
/// act.
fn register_yielder(y: &Yielder<(), Switch>) -> *const Fiber {
    let g = crate::sched::current_g().expect("weft: coroutine started outside an M");
    g.coro.fiber.entered();
    // SAFETY: we are on this goroutine's own stack (invariant 1): nobody else
    // reads or writes its `yielder` field now.
    unsafe { *g.coro.yielder.get() = y as *const _ };
    &g.coro.fiber
}

/// Suspends the current goroutine, giving `s` to its M. Returns when an M
/// resumes it, possibly on another thread.
///
/// Must be called on a goroutine's stack with `g` the current G.
pub(crate) fn suspend(g: &GRef, s: Switch) {
    // SAFETY: we run on `g`'s stack, so its coroutine is live and started and
    // `register_yielder` has stored the yielder's address, which stays valid
    // for the coroutine's whole life (it sits at the top of its stack).
    let y = unsafe { &**g.coro.yielder.get() };
    let suspended = g.coro.fiber.suspending();
    y.suspend(s);
    g.coro.fiber.resumed(suspended);
}

/// Wraps a commit closure for `Switch::Park`.
pub(crate) fn commit(f: &mut dyn FnMut()) -> Commit {
    let p: *mut (dyn FnMut() + '_) = f;
    // SAFETY: only the lifetime bound is erased; invariant 3 says the closure
    // outlives every use of the pointer.
    Commit(unsafe { mem::transmute::<*mut (dyn FnMut() + '_), *mut (dyn FnMut() + 'static)>(p) })
}
