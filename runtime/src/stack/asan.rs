//! AddressSanitizer's view of goroutine stacks. Compiled in only with
//! `--cfg weft_asan`, which goes with `-Zsanitizer=address` (docs/stacks.md,
//! "AddressSanitizer"); without it [`Fiber`] is zero-sized and every method
//! an empty inline function, so the switch path is unchanged.
//!
//! ASan keeps, per OS thread, the bounds of the stack it runs on and a *fake
//! stack* (where `detect_stack_use_after_return` puts frames, so that a
//! pointer to a dead local is caught). A goroutine runs on its own stack and
//! may resume on another M, so every switch is announced with the fiber
//! interface of `<sanitizer/common_interface_defs.h>`:
//! `__sanitizer_start_switch_fiber` just before it (naming the stack about to
//! run, and saving the fake stack of the one being left) and
//! `__sanitizer_finish_switch_fiber` just after it, on the stack now running
//! (restoring that stack's fake stack, and learning the bounds of the one
//! left). Each goroutine so gets a fake stack of its own, made on its first
//! use, carried from M to M, and destroyed when the goroutine finishes; and
//! `__asan_handle_no_return` (called before a panic unwinds) clears only the
//! goroutine's own frames.
//!
//! The protocol, S = start, F = finish (`coro.rs` makes the calls):
//! - resume, on the M: S(save the M's fake stack; the goroutine's stack),
//!   switch, F(restore the M's fake stack) once `resume` returns;
//! - first entry, on the goroutine: F(no fake stack yet; learn the M's stack);
//! - suspend, on the goroutine: S(save its fake stack; the M's stack),
//!   switch, F(restore it; learn the stack of the M that resumed it, which
//!   may be another one);
//! - finish, on the goroutine: clear the shadow of the frames still on its
//!   stack (they end in a switch and never return, so their redzones would
//!   stay poisoned in a pooled stack), then S(no save: ASan destroys the
//!   goroutine's fake stack; the M's stack). The pool then hands out stacks
//!   whose shadow is clean, with no clearing at allocation: shadow is touched
//!   only for the part of a stack a goroutine used.
//!
//! A goroutine leaked while parked for ever (`CoroCell`'s `Drop`) keeps its
//! fake stack, as it keeps its stack: it never runs again, so nothing else
//! happens.
//!
//! corosensei 0.3's own `sanitizer` feature makes the same calls inside
//! `resume`/`suspend`, but its last switch out of a finished coroutine saves
//! the fake stack instead of letting ASan destroy it (one leaked mapping of
//! ~3 MiB per goroutine that ever used a fake frame), it clears the shadow of
//! the whole stack at each finish (32 KiB of shadow per 256 KiB stack), and a
//! cargo feature cannot follow a `--cfg`; so weft makes the calls itself.
//!
//! Owns: the [`Fiber`] of each goroutine (its stack's bounds and those of the
//! M that last resumed it), read and written only by the thread running the
//! goroutine, under `coro.rs`'s invariant 1 (exclusive resume).
//!
//! Must never: switch without the matching pair of calls, or run code that
//! could take a fake frame between a finish's `start` call and the switch
//! (the fake stack is gone by then).

use super::GoStack;

/// What ASan is told about one goroutine at each of its switches.
#[derive(Default)]
pub(crate) struct Fiber {
    #[cfg(weft_asan)]
    on: imp::Bounds,
}

/// The M's fake stack, saved while one of its goroutines runs.
#[must_use]
pub(crate) struct OnM(#[cfg(weft_asan)] *mut u8);

/// A goroutine's fake stack, saved while it is suspended.
#[must_use]
pub(crate) struct Suspended(#[cfg(weft_asan)] *mut u8);

#[cfg(not(weft_asan))]
impl Fiber {
    /// Records the stack the goroutine will run on.
    #[inline(always)]
    pub(crate) fn set_stack(&self, _stack: &GoStack) {}

    /// On the M, just before it resumes the goroutine.
    #[inline(always)]
    pub(crate) fn resuming(&self) -> OnM {
        OnM()
    }

    /// On the M, once the resume has returned.
    #[inline(always)]
    pub(crate) fn back_on_m(_m: OnM) {}

    /// On the goroutine's stack, the first thing it does.
    #[inline(always)]
    pub(crate) fn entered(&self) {}

    /// On the goroutine's stack, just before it suspends.
    #[inline(always)]
    pub(crate) fn suspending(&self) -> Suspended {
        Suspended()
    }

    /// On the goroutine's stack, once it is resumed (perhaps by another M).
    #[inline(always)]
    pub(crate) fn resumed(&self, _g: Suspended) {}

    /// On the goroutine's stack, the last thing it does before its final
    /// switch.
    ///
    /// # Safety
    /// Only the switch out of the finished coroutine may follow, with no
    /// call in between that could take a fake frame.
    #[inline(always)]
    pub(crate) unsafe fn finishing(&self) {}
}

#[cfg(weft_asan)]
impl Fiber {
    /// Records the stack the goroutine will run on.
    pub(crate) fn set_stack(&self, stack: &GoStack) {
        let page = super::slab::page_size();
        let bottom = stack.limit.get() + page;
        self.on.stack.set((bottom, stack.base.get() - bottom));
        // A recycled stack's top page may keep a previous goroutine's
        // scope poison; corosensei's start frame is written there by
        // uninstrumented code and then read by instrumented code, so clear
        // that page's shadow (one page: deeper frames set their own shadow
        // on entry).
        // SAFETY: the page is inside this stack's usable part, which no
        // coroutine runs on yet.
        unsafe { imp::__asan_unpoison_memory_region((stack.base.get() - page) as *const u8, page) };
    }

    /// On the M, just before it resumes the goroutine.
    pub(crate) fn resuming(&self) -> OnM {
        OnM(imp::start(self.on.stack.get()))
    }

    /// On the M, once the resume has returned.
    pub(crate) fn back_on_m(m: OnM) {
        imp::finish(m.0);
    }

    /// On the goroutine's stack, the first thing it does.
    pub(crate) fn entered(&self) {
        // No fake stack yet: ASan makes one on first use.
        self.on.parent.set(imp::finish(std::ptr::null_mut()));
    }

    /// On the goroutine's stack, just before it suspends.
    pub(crate) fn suspending(&self) -> Suspended {
        Suspended(imp::start(self.on.parent.get()))
    }

    /// On the goroutine's stack, once it is resumed (perhaps by another M).
    pub(crate) fn resumed(&self, g: Suspended) {
        self.on.parent.set(imp::finish(g.0));
    }

    /// On the goroutine's stack, the last thing it does before its final
    /// switch.
    ///
    /// # Safety
    /// Only the switch out of the finished coroutine may follow, with no
    /// call in between that could take a fake frame (ASan is told the
    /// goroutine is gone, and its fake stack is unmapped here).
    #[inline(never)]
    pub(crate) unsafe fn finishing(&self) {
        let (bottom, size) = self.on.parent.get();
        // `__asan_handle_no_return` clears the shadow from just below this
        // frame to the top of this goroutine's stack (frames that will never
        // return); a null save then tells ASan this fiber dies (it frees its
        // fake stack), and no local of this function lives there.
        // SAFETY: the caller's contract: nothing else runs before the switch.
        unsafe {
            imp::__asan_handle_no_return();
            imp::__sanitizer_start_switch_fiber(std::ptr::null_mut(), bottom as *const u8, size);
        }
    }
}

#[cfg(weft_asan)]
mod imp {
    use std::cell::Cell;

    /// `(bottom, size)` of the goroutine's stack and of its current M's.
    #[derive(Default)]
    pub(super) struct Bounds {
        pub(super) stack: Cell<(usize, usize)>,
        pub(super) parent: Cell<(usize, usize)>,
    }

    /// Announces a switch to the stack `(bottom, size)`, which must follow
    /// at once; returns the fake stack of the stack being left.
    #[inline(never)]
    pub(super) fn start((bottom, size): (usize, usize)) -> *mut u8 {
        let mut save = std::ptr::null_mut();
        // SAFETY: `save` is a valid out-parameter; the callers pass the
        // bounds of the stack they switch to (module comment, "protocol").
        unsafe { __sanitizer_start_switch_fiber(&mut save, bottom as *const u8, size) };
        save
    }

    /// Completes a switch, on the stack now running, handing back that
    /// stack's saved fake stack (null: none yet); returns the bounds of the
    /// stack left.
    #[inline(never)]
    pub(super) fn finish(fake_stack: *mut u8) -> (usize, usize) {
        let (mut bottom, mut size) = (std::ptr::null(), 0);
        // SAFETY: valid out-parameters; every call pairs with the `start`
        // made by the other side of the switch just taken, and `fake_stack`
        // was saved by this stack's own last `start` (or is null).
        unsafe { __sanitizer_finish_switch_fiber(fake_stack, &mut bottom, &mut size) };
        (bottom as usize, size)
    }

    extern "C" {
        pub(super) fn __sanitizer_start_switch_fiber(
            fake_stack_save: *mut *mut u8,
            bottom: *const u8,
            size: usize,
        );
        fn __sanitizer_finish_switch_fiber(
            fake_stack_save: *mut u8,
            bottom_old: *mut *const u8,
            size_old: *mut usize,
        );
        pub(super) fn __asan_handle_no_return();
        pub(super) fn __asan_unpoison_memory_region(addr: *const u8, size: usize);
    }
}
