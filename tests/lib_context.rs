//! `weft::context`: cancellation reaches every descendant, deadlines fire
//! and release their timers, children of cancelled parents are born
//! cancelled, and the races — cancels from many goroutines while children
//! are created, a deadline firing while a child is created — leave every
//! context cancelled. test.sh runs this file again under
//! WEFT_SPAWN=continuation|child × WEFT_MAXPROCS=1|2.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::context::{self, CancelFunc, Context, Error};
use weft::{select, TryRecvError};

/// Every test here runs alone: one of them counts the process-wide pending
/// timers, which the others create.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_closed(ctx: &Context) -> bool {
    ctx.done().try_recv() == Err(TryRecvError::Closed)
}

fn bg() -> Context {
    context::background()
}

#[test]
fn contexts_are_send_sync_and_cheap_to_clone() {
    let _s = serial();
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Context>();
    check::<CancelFunc>();
    check::<Error>();
}

#[test]
fn errors_have_gos_messages() {
    let _s = serial();
    assert_eq!(Error::Canceled.to_string(), "context canceled");
    assert_eq!(
        Error::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
    let e: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::Canceled);
    assert_eq!(e.to_string(), "context canceled");
}

#[test]
fn background_is_never_done() {
    let _s = serial();
    let b = bg();
    assert_eq!(b.err(), None);
    assert_eq!(b.deadline(), None);
    assert_eq!(b.done().try_recv(), Err(TryRecvError::Empty));
    assert_eq!(format!("{b:?}"), "context.Background");
}

#[test]
fn cancel_closes_done_and_sets_err() {
    let _s = serial();
    let (ctx, cancel) = context::with_cancel(&bg());
    assert_eq!(ctx.err(), None);
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Empty));
    cancel.cancel();
    assert!(is_closed(&ctx));
    assert_eq!(ctx.err(), Some(Error::Canceled));
    cancel.cancel(); // again: nothing changes
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

#[test]
fn cancelling_a_parent_cancels_every_descendant_at_once() {
    let _s = serial();
    let (root, cancel) = context::with_cancel(&bg());
    let mut all = Vec::new();
    let mut keep = Vec::new();
    for _ in 0..10 {
        let (c, cc) = context::with_cancel(&root);
        for _ in 0..10 {
            let v = context::with_value(&c, "k", 1u8);
            let (g, gc) = context::with_timeout(&v, Duration::from_secs(600));
            all.push(g);
            keep.push(gc);
        }
        all.push(c);
        keep.push(cc);
    }
    cancel.cancel();
    // When cancel returns, every descendant is cancelled.
    for c in &all {
        assert_eq!(c.err(), Some(Error::Canceled));
        assert!(is_closed(c));
    }
}

#[test]
fn cancelling_a_child_leaves_the_parent_alone() {
    let _s = serial();
    let (parent, _pc) = context::with_cancel(&bg());
    let (child, cc) = context::with_cancel(&parent);
    cc.cancel();
    assert_eq!(child.err(), Some(Error::Canceled));
    assert_eq!(parent.err(), None);
}

#[test]
fn a_child_of_a_cancelled_parent_is_born_cancelled() {
    let _s = serial();
    let (parent, pc) = context::with_cancel(&bg());
    pc.cancel();
    let (child, _cc) = context::with_cancel(&parent);
    assert_eq!(child.err(), Some(Error::Canceled));
    assert!(is_closed(&child));
    let (t, _tc) = context::with_timeout(&parent, Duration::from_secs(60));
    assert_eq!(t.err(), Some(Error::Canceled));

    let (late, _lc) = context::with_deadline(&bg(), Instant::now() - Duration::from_millis(1));
    assert_eq!(late.err(), Some(Error::DeadlineExceeded));
    let (child, _cc) = context::with_cancel(&late);
    assert_eq!(child.err(), Some(Error::DeadlineExceeded));
}

#[test]
fn dropping_the_last_cancel_func_cancels() {
    let _s = serial();
    let (ctx, cancel) = context::with_cancel(&bg());
    let clone = cancel.clone();
    drop(cancel);
    assert_eq!(ctx.err(), None, "a clone is still alive");
    drop(clone);
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

#[test]
fn a_deadline_fires_and_reaches_the_children() {
    let _s = serial();
    weft::run(|| {
        let start = Instant::now();
        let (ctx, _cancel) = context::with_timeout(&bg(), Duration::from_millis(20));
        let (child, _cc) = context::with_cancel(&ctx);
        let v = context::with_value(&child, "user", "jane");
        for _ in &v.done() {}
        assert!(start.elapsed() >= Duration::from_millis(19));
        assert_eq!(v.err(), Some(Error::DeadlineExceeded));
        assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
        assert_eq!(v.value::<&str>("user"), Some(&"jane"));
    });
}

#[test]
fn the_earliest_deadline_wins() {
    let _s = serial();
    let near = Instant::now() + Duration::from_secs(10);
    let far = near + Duration::from_secs(100);
    let (a, _ac) = context::with_deadline(&bg(), near);
    let (b, _bc) = context::with_deadline(&a, far);
    assert_eq!(b.deadline(), Some(near));
    let (c, _cc) = context::with_cancel(&b);
    assert_eq!(c.deadline(), Some(near));
    let (d, _dc) = context::with_deadline(&bg(), far);
    let (e, _ec) = context::with_deadline(&d, near);
    assert_eq!(e.deadline(), Some(near));
}

#[test]
fn values_are_found_by_key_and_shadowed() {
    let _s = serial();
    let a = context::with_value(&bg(), "userID", "jane".to_string());
    let b = context::with_value(&a, "authToken", 123u64);
    let (c, _cancel) = context::with_cancel(&b);
    assert_eq!(c.value::<String>("userID").unwrap(), "jane");
    assert_eq!(c.value::<u64>("authToken"), Some(&123));
    assert_eq!(c.value::<u64>("nope"), None);
    let d = context::with_value(&c, "userID", 7i32);
    assert_eq!(d.value::<i32>("userID"), Some(&7));
    assert_eq!(
        d.value::<String>("userID"),
        None,
        "shadowed by the nearer value"
    );
    assert_eq!(
        format!("{d:?}"),
        "context.Background.WithValue(userID).WithValue(authToken).WithCancel.WithValue(userID)"
    );
}

#[test]
fn done_works_in_select_and_for() {
    let _s = serial();
    weft::run(|| {
        let (ctx, cancel) = context::with_cancel(&bg());
        let (tx, rx) = weft::chan::<u32>(0);
        let c = ctx.clone();
        let worker = weft::go!(move || {
            let mut sent = 0;
            loop {
                select! {
                    recv(c.done()) -> _ => return (sent, c.err()),
                    send(tx, sent) -> r => { r.unwrap(); sent += 1; }
                }
            }
        });
        for i in 0..5 {
            assert_eq!(rx.recv(), Ok(i));
        }
        cancel.cancel();
        let (sent, err) = worker.join().unwrap();
        assert!(sent >= 5);
        assert_eq!(err, Some(Error::Canceled));
        let waiter = weft::go!(move || {
            for _ in &ctx.done() {}
            ctx.err()
        });
        assert_eq!(waiter.join().unwrap(), Some(Error::Canceled));
    });
}

#[test]
fn cancelled_timeouts_leave_no_pending_timer() {
    let _s = serial();
    weft::run(|| {
        let before = weft::stats().timers;
        let (root, root_cancel) = context::with_cancel(&bg());
        let mut cancels = Vec::new();
        for i in 0..100 {
            let (_, c) = context::with_timeout(&root, Duration::from_secs(600 + i));
            cancels.push(c);
        }
        assert_eq!(weft::stats().timers, before + 100);
        // Half by their own cancel, half through the parent.
        cancels.truncate(50); // dropping a CancelFunc cancels
        assert_eq!(weft::stats().timers, before + 50);
        root_cancel.cancel();
        assert_eq!(weft::stats().timers, before);
        drop(cancels);

        // A fired deadline leaves nothing either.
        let (ctx, _c) = context::with_timeout(&bg(), Duration::from_millis(1));
        for _ in &ctx.done() {}
        assert_eq!(weft::stats().timers, before);
    });
}

#[test]
fn a_deep_chain_cancels_and_drops_without_overflowing_a_stack() {
    let _s = serial();
    weft::run(|| {
        let (root, cancel) = context::with_cancel(&bg());
        let mut ctx = root.clone();
        let mut cancels = Vec::new();
        for i in 0..20_000 {
            if i % 2 == 0 {
                let (c, cc) = context::with_cancel(&ctx);
                ctx = c;
                cancels.push(cc);
            } else {
                ctx = context::with_value(&ctx, "depth", i);
            }
        }
        assert_eq!(ctx.value::<i32>("depth"), Some(&19_999));
        cancel.cancel();
        assert_eq!(ctx.err(), Some(Error::Canceled));
        drop(root);
        drop(ctx);
        drop(cancels);
    });
}

/// Cancels from many goroutines at once while others create children
/// (and grandchildren, some with deadlines): afterwards every context made
/// is cancelled, with the parent's error.
#[test]
fn cancel_races_with_child_creation() {
    let _s = serial();
    let rounds = if cfg!(debug_assertions) { 20 } else { 200 };
    weft::run(move || {
        for _ in 0..rounds {
            let (parent, cancel) = context::with_cancel(&bg());
            let made = Arc::new(Mutex::new(Vec::new()));
            let creators: Vec<_> = (0..4)
                .map(|k| {
                    let parent = parent.clone();
                    let made = made.clone();
                    weft::go!(move || {
                        let mut mine = Vec::new();
                        for i in 0..50 {
                            let (c, cc) = if (i + k) % 3 == 0 {
                                context::with_timeout(&parent, Duration::from_secs(600))
                            } else {
                                context::with_cancel(&parent)
                            };
                            let (g, gc) = context::with_cancel(&c);
                            mine.push((c, cc));
                            mine.push((g, gc));
                            if i % 8 == 0 {
                                weft::yield_now();
                            }
                        }
                        made.lock().unwrap().extend(mine);
                    })
                })
                .collect();
            let cancellers: Vec<_> = (0..4)
                .map(|_| {
                    let cancel = cancel.clone();
                    weft::go!(move || cancel.cancel())
                })
                .collect();
            for h in creators.into_iter().chain(cancellers) {
                h.join().unwrap();
            }
            let made = made.lock().unwrap();
            assert_eq!(made.len(), 400);
            for (c, _) in made.iter() {
                assert_eq!(c.err(), Some(Error::Canceled));
                assert!(is_closed(c));
            }
        }
    });
}

/// A deadline fires while children are being created: every child ends up
/// with DeadlineExceeded, created before or after the firing.
#[test]
fn a_deadline_fires_while_children_are_created() {
    let _s = serial();
    let rounds = if cfg!(debug_assertions) { 10 } else { 50 };
    weft::run(move || {
        let after_fire = Arc::new(AtomicUsize::new(0));
        for r in 0..rounds {
            let (parent, _pc) =
                context::with_timeout(&bg(), Duration::from_micros(200 + 50 * r as u64));
            let creators: Vec<_> = (0..3)
                .map(|_| {
                    let parent = parent.clone();
                    let after_fire = after_fire.clone();
                    weft::go!(move || {
                        let mut made = Vec::new();
                        loop {
                            let fired = parent.err().is_some();
                            let (c, cc) = context::with_cancel(&parent);
                            made.push((c, cc));
                            if fired {
                                after_fire.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            weft::yield_now();
                        }
                        made
                    })
                })
                .collect();
            for h in creators {
                for (c, _) in h.join().unwrap() {
                    for _ in &c.done() {}
                    assert_eq!(c.err(), Some(Error::DeadlineExceeded));
                }
            }
        }
        assert_eq!(after_fire.load(Ordering::Relaxed), rounds * 3);
    });
}

/// Go issue 75533 on plain threads: once `err()` returns an error, `done()`
/// is closed, even while another thread is inside the cancel. (Before the
/// fix, `cancel` published the error first: 375–3,004 of 100,000 rounds
/// failed.)
#[test]
fn err_implies_done_closed_while_another_thread_cancels() {
    let _g = serial();
    let (tx, rx) = std::sync::mpsc::channel::<CancelFunc>();
    let canceller = std::thread::spawn(move || {
        for c in rx {
            c.cancel();
        }
    });
    for round in 0..50_000 {
        let (ctx, cancel) = context::with_cancel(&bg());
        let done = ctx.done();
        tx.send(cancel).unwrap();
        while ctx.err().is_none() {
            std::hint::spin_loop();
        }
        assert_eq!(
            done.try_recv(),
            Err(TryRecvError::Closed),
            "round {round}: err() is set but done() is open"
        );
    }
    drop(tx);
    canceller.join().unwrap();
}
