//! ThreadSanitizer's view of goroutines. Compiled in only with
//! `--cfg weft_tsan`, which goes with `-Zsanitizer=thread` (docs/stacks.md,
//! "ThreadSanitizer"); without it [`Fiber`] is zero-sized and every method
//! an empty inline function, so the switch path is unchanged.
//!
//! TSan keeps, per thread of execution, a vector clock (what it has
//! synchronised with) and a shadow call stack (for its reports). A goroutine
//! is such a thread of its own: it stops on one M and goes on on another. So
//! each goroutine gets a TSan *fiber* (`<sanitizer/tsan_interface.h>`), and
//! every switch is announced with `__tsan_switch_to_fiber` just before it:
//!
//! - resume, on the M: note the M's own fiber (`__tsan_get_current_fiber`:
//!   the OS thread's), make the goroutine's fiber on its first run
//!   (`__tsan_create_fiber`), switch to it;
//! - suspend, on the goroutine: switch to the fiber of the M that resumed it;
//! - finish: the goroutine's last frames return into corosensei, which
//!   switches back to the M's stack with the goroutine's fiber still
//!   current; the M switches to its own fiber first thing, then destroys
//!   the goroutine's (`__tsan_destroy_fiber`: a fiber cannot destroy
//!   itself).
//!
//! Each switch synchronises (flags 0, not `__tsan_switch_to_fiber_no_sync`):
//! what the M did before a resume happens before the goroutine goes on, and
//! what the goroutine did before a suspend happens before the M goes on.
//! Both are true: they run one after the other on one OS thread. A goroutine
//! that moves to another M is ordered by whatever handed it over (a run
//! queue, a wake-up), which TSan sees as it is: nothing here adds an edge
//! between two Ms.
//!
//! TSan's shadow call stack is per fiber, pushed at each instrumented
//! function's entry and popped at its exit. A frame entered after
//! `__tsan_switch_to_fiber` but before the stack switch itself is pushed on
//! the new fiber and popped, once control comes back, from the old one, so
//! the stacks drift by a frame per switch until one overflows. Hence
//! TSan's rule that the call be inlined into the function that switches:
//! the methods here are `#[inline(always)]` and call the runtime directly,
//! and `coro.rs` calls them right beside corosensei's `resume` and
//! `suspend`, whose stack switch is inline assembly in a function inlined
//! into theirs (checked on the TSan build's machine code: docs/stacks.md).
//!
//! Owns: the TSan fiber of each goroutine and the fiber of the M that last
//! resumed it, read and written only by the thread running the goroutine or
//! its M, under `coro.rs`'s invariant 1 (exclusive resume).
//!
//! Must never: switch stacks without switching fibers, run instrumented
//! code that could enter a frame between a switch of fibers and the switch
//! of stacks, or destroy the current fiber.

/// What TSan is told about one goroutine at each of its switches.
#[derive(Default)]
pub(crate) struct Fiber {
    #[cfg(weft_tsan)]
    fibers: imp::Fibers,
}

#[cfg(not(weft_tsan))]
impl Fiber {
    /// On the M, just before it resumes the goroutine.
    #[inline(always)]
    pub(crate) fn resuming(&self) {}

    /// On the goroutine's stack, just before it suspends.
    #[inline(always)]
    pub(crate) fn suspending(&self) {}

    /// On the M, the first thing once the resume of a goroutine that
    /// finished has returned.
    #[inline(always)]
    pub(crate) fn finished(&self) {}

    /// The goroutine will never run again (a record freed while it is
    /// parked for ever, or before it ran).
    #[inline(always)]
    pub(crate) fn discard(&mut self) {}
}

#[cfg(weft_tsan)]
impl Fiber {
    /// On the M, just before it resumes the goroutine.
    #[inline(always)]
    pub(crate) fn resuming(&self) {
        let f = &self.fibers;
        // SAFETY: we are on the M, outside any goroutine, so the current
        // fiber is the M's; the goroutine's fiber is made once, on its
        // first run, and stays until `finished` or `discard`.
        unsafe {
            f.parent.set(imp::__tsan_get_current_fiber());
            if f.goroutine.get().is_null() {
                f.goroutine.set(imp::__tsan_create_fiber(0));
            }
            imp::__tsan_switch_to_fiber(f.goroutine.get(), 0);
        }
    }

    /// On the goroutine's stack, just before it suspends.
    #[inline(always)]
    pub(crate) fn suspending(&self) {
        // SAFETY: `parent` is the fiber of the M that resumed this goroutine
        // (set by `resuming`), and the suspend that follows returns to that
        // M's stack.
        unsafe { imp::__tsan_switch_to_fiber(self.fibers.parent.get(), 0) };
    }

    /// On the M, the first thing once the resume of a goroutine that
    /// finished has returned.
    #[inline(always)]
    pub(crate) fn finished(&self) {
        let f = &self.fibers;
        // SAFETY: the goroutine's frames are gone and its fiber is still
        // the current one (its last switch was corosensei's, unannounced);
        // we switch to this M's fiber, then destroy the goroutine's, which
        // is no longer current and never runs again.
        unsafe {
            imp::__tsan_switch_to_fiber(f.parent.get(), 0);
            imp::__tsan_destroy_fiber(f.goroutine.replace(std::ptr::null_mut()));
        }
    }

    /// The goroutine will never run again (a record freed while it is
    /// parked for ever, or before it ran).
    pub(crate) fn discard(&mut self) {
        let g = self.fibers.goroutine.replace(std::ptr::null_mut());
        if !g.is_null() {
            // SAFETY: the fiber is not the current one (its goroutine is
            // suspended for ever, and whoever drops its record is not on its
            // stack) and nothing switches to it again.
            unsafe { imp::__tsan_destroy_fiber(g) };
        }
    }
}

#[cfg(weft_tsan)]
mod imp {
    use std::cell::Cell;
    use std::ffi::c_void;
    use std::ptr;

    /// A goroutine's fiber (null before its first run and after it
    /// finished) and that of the M that last resumed it.
    pub(super) struct Fibers {
        pub(super) goroutine: Cell<*mut c_void>,
        pub(super) parent: Cell<*mut c_void>,
    }

    impl Default for Fibers {
        fn default() -> Fibers {
            Fibers {
                goroutine: Cell::new(ptr::null_mut()),
                parent: Cell::new(ptr::null_mut()),
            }
        }
    }

    extern "C" {
        pub(super) fn __tsan_get_current_fiber() -> *mut c_void;
        pub(super) fn __tsan_create_fiber(flags: u32) -> *mut c_void;
        pub(super) fn __tsan_destroy_fiber(fiber: *mut c_void);
        pub(super) fn __tsan_switch_to_fiber(fiber: *mut c_void, flags: u32);
    }
}
