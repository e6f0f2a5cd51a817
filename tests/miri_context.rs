//! The context tree driven by plain OS threads only: the part of
//! `weft::context` Miri can run. No deadline here is in the future (a
//! future deadline arms a runtime timer, which starts the scheduler);
//! `tests/lib_context.rs` covers those under the real runtime.
//! `scripts/miri.sh` runs this file under Stacked Borrows and Tree Borrows
//! with several seeds; `cargo test` runs it as an ordinary test file too.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use weft::context::{self, Error};

/// A cancel on one thread wakes threads blocked on the `done()` of every
/// descendant, and derivations racing the cancel are born cancelled or
/// cancelled with the rest.
#[test]
fn cancel_reaches_every_descendant_across_threads() {
    let (root, cancel) = context::with_cancel(&context::background());
    let (mid, _mid_cancel) = context::with_cancel(&root);
    let valued = context::with_value(&mid, "k", 7u32);
    let waiters: Vec<_> = [root.clone(), mid.clone(), valued.clone()]
        .into_iter()
        .map(|c| {
            thread::spawn(move || {
                for _ in &c.done() {}
                c.err()
            })
        })
        .collect();
    let racer = {
        let mid = mid.clone();
        thread::spawn(move || {
            let (leaf, _c) = context::with_cancel(&mid);
            for _ in &leaf.done() {}
            leaf.err()
        })
    };
    let canceller = thread::spawn(move || cancel.cancel());
    canceller.join().unwrap();
    for w in waiters {
        assert_eq!(w.join().unwrap(), Some(Error::Canceled));
    }
    assert_eq!(racer.join().unwrap(), Some(Error::Canceled));
    assert_eq!(valued.value::<u32>("k"), Some(&7));
}

/// Many threads cancel one node at once and derive from it: the cause set
/// first wins, and every child ends cancelled.
#[test]
fn concurrent_cancels_and_derivations() {
    let (ctx, cancel) = context::with_cancel_cause(&context::background());
    let derived = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let (ctx, cancel, derived) = (ctx.clone(), cancel.clone(), derived.clone());
            thread::spawn(move || {
                let (child, _c) = context::with_cancel(&ctx);
                derived.fetch_add(1, SeqCst);
                if i == 1 {
                    cancel.cancel(Some(Arc::new(std::io::Error::other("one"))));
                }
                for _ in &child.done() {}
                child.err()
            })
        })
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), Some(Error::Canceled));
    }
    assert_eq!(derived.load(SeqCst), 3);
    assert_eq!(ctx.err(), Some(Error::Canceled));
    assert_eq!(
        context::cause(&ctx).map(|c| c.to_string()),
        Some("one".to_string())
    );
}

/// A deadline already passed cancels at once (no timer), a dropped
/// `CancelFunc` cancels, and `without_cancel` stops the cancel.
#[test]
fn passed_deadline_dropped_cancel_and_without_cancel() {
    let (parent, cancel) = context::with_cancel(&context::background());
    let (late, _c) = context::with_deadline(&parent, Instant::now());
    assert_eq!(late.err(), Some(Error::DeadlineExceeded));
    assert!(late.done().recv().is_err());
    let detached = context::without_cancel(&parent);
    let t = thread::spawn(move || drop(cancel));
    t.join().unwrap();
    assert_eq!(parent.err(), Some(Error::Canceled));
    assert_eq!(detached.err(), None);
    assert_eq!(
        late.err(),
        Some(Error::DeadlineExceeded),
        "first cause wins"
    );
}
