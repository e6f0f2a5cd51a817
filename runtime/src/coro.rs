//! Stack switching: a goroutine's coroutine and the two ways across it.
//!
//! Owns: the corosensei `Coroutine` of every goroutine, and the only code
//! that resumes one ([`CoroCell::resume`], called by an M's scheduler loop)
//! or suspends one ([`CoroCell::suspend`], called on the goroutine's own
//! stack). It knows nothing of the scheduler: what a goroutine hands its M
//! when it suspends is the type parameter `Y` (`g::Switch`).
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
//!    the current M and G through `#[inline(never)]` accessors after every
//!    switch. The user-facing rule (no `thread_local!` reference, std
//!    `MutexGuard` or `RefCell` borrow held across a blocking call) is
//!    documented on the crate.
//! 3. **Commit closures.** A [`Commit`] is a pointer to a closure on the
//!    suspended goroutine's stack. The scheduler calls it after the switch
//!    and before the G can be resumed (a G is resumed only by the M that
//!    readies it, and readying a parking G waits for the commit, see
//!    `park.rs`), so the closure is alive and nobody else touches it.
//! 4. **Fixed address.** A started `CoroCell` never moves (it lives in a G
//!    record, which is boxed and recycled in place): its coroutine stores
//!    the address of its `Yielder` in the cell on first run.
//!
//! Must never: allocate on the switch path, let a panic unwind across a
//! switch, or resume a coroutine from two threads.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop, MaybeUninit};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::stack::asan::Fiber;
use crate::stack::{tsan, GoStack};

/// A commit closure living on a suspended goroutine's stack.
pub(crate) struct Commit(*mut (dyn FnMut() + 'static));

impl Commit {
    /// Wraps a closure on the current goroutine's stack, which is about to
    /// suspend with it.
    pub fn new(f: &mut dyn FnMut()) -> Commit {
        let p: *mut (dyn FnMut() + '_) = f;
        // SAFETY: only the lifetime bound is erased; invariant 3 says the
        // closure outlives every use of the pointer.
        Commit(unsafe {
            mem::transmute::<*mut (dyn FnMut() + '_), *mut (dyn FnMut() + 'static)>(p)
        })
    }

    /// Runs the closure.
    pub fn run(self) {
        // SAFETY: invariant 3: the closure is on the stack of the goroutine
        // that just suspended with this `Commit`, which cannot be resumed
        // until after this call returns.
        unsafe { (*self.0)() }
    }
}

type Coro<Y> = Coroutine<(), Y, (), GoStack>;

/// Words of a closure a [`Thunk`] holds inline.
const THUNK_WORDS: usize = 3;
type ThunkData = MaybeUninit<[usize; THUNK_WORDS]>;

/// A goroutine's closure while it waits for a stack, type-erased: inline
/// when it fits in [`THUNK_WORDS`] words (nearly every spawn: `go!`'s body
/// holds the user's closure and nothing else), else in a box. Under child
/// stealing the closure is made on the spawner's M and run on another; a
/// box per spawn made glibc's cross-thread frees ~15% of a spawn.
struct Thunk {
    data: ThunkData,
    /// Moves the closure out of `data` and runs it.
    call: unsafe fn(*mut ThunkData),
    /// Drops the closure in `data` unrun.
    drop: unsafe fn(*mut ThunkData),
    /// Not `Sync`: it owns an `F` that need not be.
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: made only from an `F: Send + 'static` (`Thunk::new`), which it
// owns: moving it to another thread moves only that `F`, which borrows
// nothing.
unsafe impl Send for Thunk {}

impl Thunk {
    fn new<F: FnOnce() + Send + 'static>(f: F) -> Thunk {
        let mut data = ThunkData::uninit();
        let inline = mem::size_of::<F>() <= mem::size_of::<ThunkData>()
            && mem::align_of::<F>() <= mem::align_of::<ThunkData>();
        if inline {
            // SAFETY: `F` fits `data` in size and alignment (just checked).
            unsafe { data.as_mut_ptr().cast::<F>().write(f) };
            Thunk {
                data,
                call: call_inline::<F>,
                drop: drop_inline::<F>,
                _not_sync: PhantomData,
            }
        } else {
            let b = Box::into_raw(Box::new(f));
            // SAFETY: a thin pointer fits the first word.
            unsafe { data.as_mut_ptr().cast::<*mut F>().write(b) };
            Thunk {
                data,
                call: call_boxed::<F>,
                drop: drop_boxed::<F>,
                _not_sync: PhantomData,
            }
        }
    }

    /// Runs the closure (once: it is consumed).
    fn run(self) {
        let mut me = ManuallyDrop::new(self);
        // SAFETY: `data` holds the closure `call` was made for, not yet run
        // or dropped; `me` is never dropped, so it is not dropped again.
        unsafe { (me.call)(&mut me.data) }
    }
}

impl Drop for Thunk {
    fn drop(&mut self) {
        // SAFETY: `data` holds the closure (`run` forgets the thunk).
        unsafe { (self.drop)(&mut self.data) }
    }
}

/// # Safety
/// `data` holds an `F` written by `Thunk::new`, read at most once.
unsafe fn call_inline<F: FnOnce()>(data: *mut ThunkData) {
    // SAFETY: the caller's contract: `data` holds an `F` that `Thunk::new`
    // wrote inline (size and alignment checked there), not yet read or
    // dropped; this read moves it out, and `data` is not touched again
    // (`run` forgets the thunk).
    let f = unsafe { data.cast::<F>().read() };
    f()
}

/// # Safety
/// `data` holds an `F` written inline by `Thunk::new`, neither run nor
/// dropped; it is dropped here, once.
unsafe fn drop_inline<F>(data: *mut ThunkData) {
    // SAFETY: `data` holds an `F` that `Thunk::new` wrote inline, neither
    // run nor dropped (the caller's contract); this drops it in place, once
    // (`Thunk`'s `Drop`; `run` forgets the thunk instead).
    unsafe { data.cast::<F>().drop_in_place() }
}

/// # Safety
/// `data` holds a `Box<F>`'s pointer written by `Thunk::new`, read at
/// most once.
unsafe fn call_boxed<F: FnOnce()>(data: *mut ThunkData) {
    // SAFETY: `data`'s first word holds the pointer `Box::into_raw` gave
    // `Thunk::new` for this `F`, not yet read (the caller's contract):
    // rebuilding the box takes ownership, once.
    let f = unsafe { Box::from_raw(data.cast::<*mut F>().read()) };
    f()
}

/// # Safety
/// `data` holds a `Box<F>`'s pointer written by `Thunk::new`, neither run
/// nor dropped; it is dropped here, once.
unsafe fn drop_boxed<F>(data: *mut ThunkData) {
    // SAFETY: `data`'s first word holds the pointer `Box::into_raw` gave
    // `Thunk::new` for this `F`, not yet read (the caller's contract):
    // rebuilding the box takes ownership, once, and drops it.
    drop(unsafe { Box::from_raw(data.cast::<*mut F>().read()) })
}

/// What resuming a goroutine led to.
pub(crate) enum Resumed<Y> {
    /// It suspended itself, handing over this.
    Switched(Y),
    /// It finished; here is its stack for reuse.
    Finished(GoStack),
}

/// A goroutine's coroutine plus the address of its `Yielder`.
pub(crate) struct CoroCell<Y: 'static> {
    coro: UnsafeCell<Body<Y>>,
    /// Set by the coroutine itself on first run; read only on its own stack.
    yielder: UnsafeCell<*const Yielder<(), Y>>,
    /// What AddressSanitizer is told at each switch (`stack/asan.rs`;
    /// zero-sized without `cfg(weft_asan)`).
    fiber: Fiber,
    /// What ThreadSanitizer is told at each switch (`stack/tsan.rs`;
    /// zero-sized without `cfg(weft_tsan)`).
    tsan: tsan::Fiber,
    /// About where the stack pointer was at the last suspend (the address
    /// of a local in [`CoroCell::suspend`]): a hint for
    /// [`CoroCell::prefetch_stack`], never dereferenced. Written by the
    /// goroutine, read by whoever readies it; a stale value only makes the
    /// prefetch useless.
    sp_hint: AtomicUsize,
}

/// A goroutine's code, before and after it has a stack.
enum Body<Y: 'static> {
    /// Not run yet and no stack bound (see [`CoroCell::start_unbound`]).
    Unbound(Thunk),
    /// A coroutine on its stack: started or not, not finished.
    Live(Coro<Y>),
    /// No goroutine: a fresh or recycled record, or a finished goroutine
    /// whose stack went back to the pool.
    Gone,
}

// SAFETY: invariant 1 (exclusive resume) and invariant 2 (migration): the
// coroutine is touched by one thread at a time, handed over through the run
// queues' synchronisation, and no thread-local address is cached across a
// suspension point by runtime code.
unsafe impl<Y> Send for CoroCell<Y> {}
// SAFETY: as for `Send`: shared references to a `CoroCell` exist (the `G` is
// reachable from queues and wait records), but only the M that owns the G
// dereferences its contents.
unsafe impl<Y> Sync for CoroCell<Y> {}

impl<Y: 'static> CoroCell<Y> {
    /// A cell with no goroutine in it.
    pub fn empty() -> CoroCell<Y> {
        CoroCell {
            coro: UnsafeCell::new(Body::Gone),
            yielder: UnsafeCell::new(ptr::null()),
            fiber: Fiber::default(),
            tsan: tsan::Fiber::default(),
            sp_hint: AtomicUsize::new(0),
        }
    }

    fn coroutine(&self, stack: GoStack, body: impl FnOnce() + Send + 'static) -> Coro<Y> {
        self.fiber.set_stack(&stack);
        let slot = SendPtr(self.yielder.get());
        let fiber = SendPtr((&self.fiber as *const Fiber).cast_mut());
        Coroutine::with_stack(stack, move |y: &Yielder<(), Y>, ()| {
            let (slot, fiber) = (slot, fiber);
            // SAFETY: invariant 4: the cell has not moved since `start`;
            // we are on this goroutine's own stack, the only place that
            // reads or writes its yielder slot and its fiber (invariant 1).
            unsafe {
                *slot.0 = y as *const _;
                (*fiber.0).entered();
            }
            body();
            // SAFETY: `fiber.0` points at this cell's fiber, which has not
            // moved since `start` (invariant 4) and which only this
            // goroutine's own stack touches while it runs (invariant 1);
            // the switch out of the finished coroutine comes next, and
            // corosensei only returns through frames made before `entered`.
            unsafe { (*fiber.0).finishing() };
        })
    }

    /// Prepares the goroutine `body` on `stack`. `body` must not unwind:
    /// the caller catches panics inside it.
    ///
    /// # Safety
    /// The caller owns the G exclusively (it is not in any queue yet), the
    /// cell is empty, and it will not move from here on (invariant 4).
    pub unsafe fn start(&self, stack: GoStack, body: impl FnOnce() + Send + 'static) {
        self.sp_hint.store(0, Ordering::Relaxed); // a recycled record's is stale
        let coro = self.coroutine(stack, body);
        // SAFETY: exclusive access by the caller's contract.
        unsafe { *self.coro.get() = Body::Live(coro) };
    }

    /// Prepares a goroutine that gets its stack only when an M first runs
    /// it ([`CoroCell::bind`]). A queued goroutine then costs its closure,
    /// not a stack: under child stealing a spawner can queue a million
    /// children before any runs, and those that finish hand their stack
    /// straight to the next, so the pool stays warm.
    ///
    /// # Safety
    /// The caller owns the G exclusively (it is not in any queue yet), the
    /// cell is empty, and it will not move from here on (invariant 4).
    pub unsafe fn start_unbound(&self, body: impl FnOnce() + Send + 'static) {
        // A recycled record's hint is stale.
        self.sp_hint.store(0, Ordering::Relaxed);
        // SAFETY: exclusive access by the caller's contract.
        unsafe { *self.coro.get() = Body::Unbound(Thunk::new(body)) };
    }

    /// Whether this goroutine still needs a stack ([`CoroCell::bind`]).
    ///
    /// # Safety
    /// As for [`CoroCell::resume`]: the caller is the M that owns the G.
    #[inline]
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
            crate::throw("bound a stack to a goroutine that has one");
        };
        *slot = Body::Live(self.coroutine(stack, move || body.run()));
    }

    /// Runs an unbound goroutine's body on the caller's own stack, to its
    /// end, for a goroutine that cannot get a stack: its body, seeing no
    /// current goroutine, does not run its user code (`spawn.rs`) and never
    /// suspends. The cell is empty afterwards.
    ///
    /// # Safety
    /// As for [`CoroCell::bind`].
    pub unsafe fn run_unbound_here(&self) {
        // SAFETY: exclusive access by the caller's contract.
        let slot = unsafe { &mut *self.coro.get() };
        let Body::Unbound(body) = mem::replace(slot, Body::Gone) else {
            crate::throw("ran a goroutine that has a stack on its M's stack");
        };
        body.run();
    }

    /// Runs the goroutine until it suspends or finishes.
    ///
    /// # Safety
    /// The caller is the M that owns this goroutine (invariant 1) and has
    /// bound it a stack.
    ///
    /// Under ThreadSanitizer not inlined, nor is [`CoroCell::suspend`]: the
    /// instrumented frames between a fiber switch and the stack switch must
    /// be the same at every call (`stack/tsan.rs`), and inlining decided per
    /// call site let one select's suspend have none while the resume had one.
    #[cfg_attr(not(weft_tsan), inline)]
    #[cfg_attr(weft_tsan, inline(never))]
    pub unsafe fn resume(&self) -> Resumed<Y> {
        // SAFETY: exclusive access by the caller's contract.
        let slot = unsafe { &mut *self.coro.get() };
        let Body::Live(coro) = slot else {
            crate::throw("resumed a goroutine without a live coroutine");
        };
        let on_m = self.fiber.resuming();
        self.tsan.resuming();
        let result = coro.resume(());
        Fiber::back_on_m(on_m);
        match result {
            CoroutineResult::Yield(s) => Resumed::Switched(s),
            CoroutineResult::Return(()) => {
                self.tsan.finished();
                let Body::Live(coro) = mem::replace(slot, Body::Gone) else {
                    crate::throw("goroutine vanished while running");
                };
                Resumed::Finished(coro.into_stack())
            }
        }
    }

    /// Suspends the goroutine running on this stack, handing `y` to its M.
    /// Returns when an M resumes it, possibly on another thread.
    ///
    /// # Safety
    /// Called on this cell's own goroutine's stack.
    #[cfg_attr(not(weft_tsan), inline)]
    #[cfg_attr(weft_tsan, inline(never))]
    pub unsafe fn suspend(&self, y: Y) {
        // SAFETY: we run on this goroutine's stack (the caller's contract),
        // so its coroutine is live and started and has stored its yielder's
        // address, valid for the coroutine's whole life (it sits at the top
        // of its stack).
        let yielder = unsafe { &**self.yielder.get() };
        let here = 0u8;
        self.sp_hint
            .store(ptr::addr_of!(here) as usize, Ordering::Relaxed);
        let suspended = self.fiber.suspending();
        self.tsan.suspending();
        yielder.suspend(y);
        self.fiber.resumed(suspended);
    }

    /// Starts loading the top of a suspended goroutine's stack into the
    /// cache: the registers its switch saved and the frames it will return
    /// through. Called when a parked goroutine is readied, so that by the
    /// time an M resumes it the lines have arrived. With thousands of
    /// goroutines each resume otherwise starts with a chain of misses on
    /// memory untouched since the goroutine parked (the token ring: ~1.6x
    /// faster with this; docs/scheduler.md).
    #[inline]
    pub fn prefetch_stack(&self) {
        let sp = self.sp_hint.load(Ordering::Relaxed);
        if sp == 0 {
            return;
        }
        // From two lines below the hint (corosensei's switch frame and the
        // saved registers) up through the parking frames above it.
        let first = (sp & !(LINE - 1)).wrapping_sub(PREFETCH_BELOW * LINE);
        for i in 0..PREFETCH_LINES {
            prefetch(first.wrapping_add(i * LINE));
        }
    }
}

/// A cache line.
const LINE: usize = 64;
/// Lines prefetched below the suspend hint, and in all (measured on the
/// token ring at 1P: 8 lines from the hint up gained half of it, 12 from two
/// below gained all of it; more gained nothing).
const PREFETCH_BELOW: usize = 2;
const PREFETCH_LINES: usize = 12;

/// A prefetch of the line at `addr` (a hint: it never faults, whatever the
/// address).
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch has no architectural effect and does not fault on
    // any address, mapped or not.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

impl<Y: 'static> Drop for CoroCell<Y> {
    fn drop(&mut self) {
        self.tsan.discard();
        if let Body::Live(coro) = mem::replace(self.coro.get_mut(), Body::Gone) {
            if coro.started() && !coro.done() {
                // A goroutine parked forever whose record is being freed
                // (Go leaks these too). Unwinding its stack here would run
                // its destructors on whatever thread dropped it, in the
                // middle of someone else's code; leak the stack instead.
                let _leaked = ManuallyDrop::new(coro);
            }
            // Not started: dropping frees the closure.
        }
    }
}

/// The yielder slot's address, carried into the coroutine.
struct SendPtr<T>(*mut T);
// SAFETY: the pointer is only dereferenced on the coroutine's own stack
// (invariant 1), wherever that runs.
unsafe impl<T> Send for SendPtr<T> {}

#[cfg(test)]
mod thunk_tests {
    use super::Thunk;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Counts its drops.
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_thunk_runs_its_closure_once_and_drops_what_it_captured_once() {
        let ran = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        // One closure fits inline (two words captured), one is boxed (a
        // 128-byte array captured).
        let small = {
            let (ran, t) = (ran.clone(), Token(drops.clone()));
            move || {
                let _t = t;
                ran.fetch_add(1, Ordering::SeqCst);
            }
        };
        let big = {
            let (ran, t, pad) = (ran.clone(), Token(drops.clone()), [7u64; 16]);
            move || {
                let _t = t;
                ran.fetch_add(pad[15] as usize, Ordering::SeqCst);
            }
        };
        Thunk::new(small).run();
        Thunk::new(big).run();
        assert_eq!(ran.load(Ordering::SeqCst), 1 + 7);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn thunk_edge_cases_zero_sized_overaligned_exact_fit_and_panics() {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        static ZST_RAN: AtomicUsize = AtomicUsize::new(0);
        // Zero-sized, run and unrun.
        Thunk::new(|| {
            ZST_RAN.fetch_add(1, Ordering::SeqCst);
        })
        .run();
        drop(Thunk::new(|| panic!("an unrun thunk must not run")));
        assert_eq!(ZST_RAN.load(Ordering::SeqCst), 1);

        // Over-aligned (boxed), its address checked where it runs.
        #[repr(align(32))]
        struct Wide(u64);
        let w = Wide(5);
        let seen = Arc::new(AtomicUsize::new(0));
        let s2 = seen.clone();
        Thunk::new(move || {
            assert_eq!(&w as *const Wide as usize % 32, 0);
            s2.fetch_add(w.0 as usize, Ordering::SeqCst);
        })
        .run();
        assert_eq!(seen.load(Ordering::SeqCst), 5);

        // Exactly three words (inline: a pair and an Arc) and four (boxed).
        let drops = Arc::new(AtomicUsize::new(0));
        let three = (Token(drops.clone()), 3u64);
        let four = (Token(drops.clone()), 1u64, 2u64, 3u64);
        let s3 = seen.clone();
        let f = move || {
            let (_t, n) = three;
            s3.fetch_add(n as usize, Ordering::SeqCst);
        };
        assert_eq!(std::mem::size_of_val(&f), 3 * 8);
        Thunk::new(f).run();
        drop(Thunk::new(move || drop(four)));
        assert_eq!(seen.load(Ordering::SeqCst), 5 + 3);
        assert_eq!(drops.load(Ordering::SeqCst), 2);

        // A panic inside drops each capture once, inline and boxed.
        let t = Token(drops.clone());
        let r = catch_unwind(AssertUnwindSafe(|| {
            Thunk::new(move || {
                let _t = t;
                panic!("inline");
            })
            .run()
        }));
        assert!(r.is_err());
        let (t, pad) = (Token(drops.clone()), [0u64; 8]);
        let r = catch_unwind(AssertUnwindSafe(|| {
            Thunk::new(move || {
                let _t = t;
                panic!("boxed {}", pad[0]);
            })
            .run()
        }));
        assert!(r.is_err());
        assert_eq!(drops.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn an_unrun_thunk_drops_its_closure() {
        let drops = Arc::new(AtomicUsize::new(0));
        let small = {
            let t = Token(drops.clone());
            move || drop(t)
        };
        let big = {
            let (t, pad) = (Token(drops.clone()), [1u8; 100]);
            move || {
                drop(t);
                assert_eq!(pad[0], 1);
            }
        };
        drop(Thunk::new(small));
        drop(Thunk::new(big));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}
