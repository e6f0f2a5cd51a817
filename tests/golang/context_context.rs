//! Port of Go's `src/context/context_test.go`: the `XTest*` functions,
//! which Go runs from `x_test.go` because they read the package's
//! internals (a `cancelCtx`'s `children` map, `parentCancelCtx`). weft's
//! context tree is private too, so each port checks what those internals
//! promise from the outside: every context of the tree is cancelled with
//! its parent and not with its child, and a cancelled child no longer
//! holds on to its parent (the allocations it made are freed, counted by
//! `common::measure`).
//!
//! Ported: TestParentFinishesChild (its `AfterFunc` child is checked to
//! run once the parent is cancelled), TestChildFinishesFirst,
//! TestCancelRemoves (the children map's length is the live allocations
//! left after many children are made and cancelled, or `after_func`s made
//! and stopped).
//!
//! Not ported: TestCustomContextGoroutines (a custom `Context` cannot be
//! written: weft's `Context` is a struct; weft never starts a goroutine per
//! context, see `src/context.rs`).

use std::time::Duration;

use weft::context::{self, Context, Error};

use crate::common;

const VERY_LONG: Duration = Duration::from_secs(1000 * 3600);

fn is_done(c: &Context) -> bool {
    c.done()
        .try_recv()
        .is_err_and(|e| e == weft::TryRecvError::Closed)
}

#[test]
fn parent_finishes_child() {
    common::run(|| {
        // Context tree:
        // parent -> cancel_child
        // parent -> value_child -> timer_child
        // parent -> after_child
        let (parent, cancel) = context::with_cancel(&context::background());
        let (cancel_child, _stop1) = context::with_cancel(&parent);
        let value_child = context::with_value(&parent, "key", "value");
        let (timer_child, _stop2) = context::with_timeout(&value_child, VERY_LONG);
        let (after_tx, after_rx) = weft::chan::<()>(1);
        let after_stop = context::after_func(&parent, move || {
            after_tx.send(()).unwrap();
        });
        assert_eq!(
            after_rx.try_recv(),
            Err(weft::TryRecvError::Empty),
            "afterChild ran before its parent was done"
        );

        for (c, name) in [
            (&parent, "parent"),
            (&cancel_child, "cancelChild"),
            (&timer_child, "timerChild"),
            (&value_child, "valueChild"),
        ] {
            assert!(!is_done(c), "<-{name}.Done() should block");
        }

        cancel.cancel();

        // parent and children should all be finished.
        for (c, name) in [
            (&parent, "parent"),
            (&cancel_child, "cancelChild"),
            (&value_child, "valueChild"),
            (&timer_child, "timerChild"),
        ] {
            assert!(is_done(c), "<-{name}.Done() blocked, but shouldn't have");
            assert_eq!(c.err(), Some(Error::Canceled), "{name}.Err()");
        }

        // The after_func child was started (and so cannot be stopped).
        assert_eq!(after_rx.recv(), Ok(()), "afterChild did not run");
        assert!(
            !after_stop.stop(),
            "afterStop() = true after the parent was done"
        );

        // A value over a cancelled parent is cancelled.
        let precanceled_child = context::with_value(&parent, "key", "value");
        assert!(
            is_done(&precanceled_child),
            "<-precanceledChild.Done() blocked"
        );
        assert_eq!(precanceled_child.err(), Some(Error::Canceled));
    });
}

#[test]
fn child_finishes_first() {
    common::run(|| {
        let (cancelable, _stop) = context::with_cancel(&context::background());
        for parent in [context::background(), cancelable] {
            let (child, cancel) = context::with_cancel(&parent);
            assert!(!is_done(&parent), "<-parent.Done() should block");
            assert!(!is_done(&child), "<-child.Done() should block");

            cancel.cancel();

            // child should be finished.
            assert!(
                is_done(&child),
                "<-child.Done() blocked, but shouldn't have"
            );
            assert_eq!(child.err(), Some(Error::Canceled));
            // parent should not be finished.
            assert!(!is_done(&parent), "<-parent.Done() should block");
            assert_eq!(parent.err(), None);
        }
    });
}

/// Go checks `len(ctx.children)` after each step; here the children a
/// long-lived parent would keep if cancelling did not remove them are
/// counted as live allocations (each child holds a node, a frame and a
/// cancel function: at least one allocation left per child if it leaked).
#[test]
fn cancel_removes() {
    common::run_alone(|| {
        const N: isize = 1000;
        let (ctx, _cancel) = context::with_cancel(&context::background());
        // Let the parent's children map grow to its size before measuring.
        let warm: Vec<_> = (0..N).map(|_| context::with_cancel(&ctx)).collect();
        drop(warm);
        let used = common::measure(|| {
            for _ in 0..N {
                let (_c, cancel) = context::with_cancel(&ctx);
                cancel.cancel();
            }
            for _ in 0..N {
                let (_c, cancel) = context::with_timeout(&ctx, Duration::from_secs(3600));
                cancel.cancel();
            }
            for _ in 0..N {
                let stop = context::after_func(&ctx, || {});
                assert!(stop.stop());
            }
        });
        assert!(
            used.allocs < N / 10,
            "{} allocations ({} bytes) live after cancelling {} children",
            used.allocs,
            used.bytes,
            3 * N
        );
        assert_eq!(ctx.err(), None);
    });
}
