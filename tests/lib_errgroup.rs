//! `weft::errgroup::Group`: the first error wins and cancels the group's
//! context, the limit is never exceeded (1,000 tasks, concurrency counted),
//! `try_go` never parks, panics come back out of `wait`. test.sh runs this
//! file again under WEFT_SPAWN=continuation|child × WEFT_MAXPROCS=1|2.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::context::{self, Error};
use weft::errgroup::Group;

#[test]
fn no_tasks_no_error() {
    let g = Group::<String>::new();
    assert_eq!(g.wait(), Ok(()));
}

#[test]
fn every_task_runs_and_wait_waits_for_all() {
    weft::run(|| {
        let g = Group::<()>::new();
        let n = Arc::new(AtomicUsize::new(0));
        for _ in 0..1000 {
            let n = n.clone();
            g.go(move || {
                weft::yield_now();
                n.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        g.wait().unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 1000);
    });
}

/// The first error in time wins: the second task fails only after seeing
/// the context cancelled by the first.
#[test]
fn the_first_error_wins_and_cancels_the_context() {
    weft::run(|| {
        for _ in 0..50 {
            let (g, ctx) = Group::with_context(&context::background());
            let c = ctx.clone();
            g.go(move || {
                for _ in &c.done() {}
                Err(format!("second: {}", c.err().unwrap()))
            });
            g.go(|| Err("first".to_string()));
            g.go(|| Ok(()));
            assert_eq!(g.wait(), Err("first".to_string()));
            assert_eq!(ctx.err(), Some(Error::Canceled));
            assert_eq!(g.wait(), Ok(()), "the error is handed out once");
        }
    });
}

#[test]
fn wait_cancels_the_context_even_without_errors() {
    let (g, ctx) = Group::<()>::with_context(&context::background());
    g.go(|| Ok(()));
    assert_eq!(ctx.err(), None);
    g.wait().unwrap();
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

#[test]
fn the_group_context_follows_its_parent() {
    let (parent, cancel) = context::with_cancel(&context::background());
    let (g, ctx) = Group::<Error>::with_context(&parent);
    let c = ctx.clone();
    g.go(move || {
        for _ in &c.done() {}
        Err(c.err().unwrap())
    });
    cancel.cancel();
    assert_eq!(g.wait(), Err(Error::Canceled));
}

/// 1,000 tasks with a limit of 8: the number running at once never goes
/// above 8, and all of them run.
#[test]
fn a_thousand_tasks_never_exceed_the_limit() {
    for limit in [1, 3, 8] {
        let (ran, max) = weft::run(move || {
            let mut g = Group::<()>::new();
            g.set_limit(limit);
            let running = Arc::new(AtomicUsize::new(0));
            let max = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            for i in 0..1000 {
                let (running, max, ran) = (running.clone(), max.clone(), ran.clone());
                g.go(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    if i % 2 == 0 {
                        weft::yield_now();
                    } else if i % 101 == 0 {
                        weft::time::sleep(Duration::from_micros(200));
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            g.wait().unwrap();
            (ran.load(Ordering::SeqCst), max.load(Ordering::SeqCst))
        });
        assert_eq!(ran, 1000);
        assert!(
            max <= limit,
            "{max} tasks ran at once with a limit of {limit}"
        );
        assert!(max >= 1);
    }
}

#[test]
fn try_go_respects_the_limit_without_parking() {
    weft::run(|| {
        let mut g = Group::<()>::new();
        g.set_limit(2);
        let (tx, rx) = weft::chan::<()>(0);
        for _ in 0..2 {
            let rx = rx.clone();
            assert!(g.try_go(move || {
                let _ = rx.recv();
                Ok(())
            }));
        }
        assert!(!g.try_go(|| Ok(())));
        drop(tx);
        g.wait().unwrap();
        assert!(g.try_go(|| Ok(())));
        g.wait().unwrap();
    });
}

#[test]
fn subtasks_may_start_subtasks() {
    weft::run(|| {
        let g = Group::<u32>::new();
        let n = Arc::new(AtomicUsize::new(0));
        for i in 0..10u32 {
            let (g2, n) = (g.clone(), n.clone());
            g.go(move || {
                for _ in 0..10 {
                    let n = n.clone();
                    g2.go(move || {
                        n.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                }
                if i == 3 {
                    Err(3)
                } else {
                    Ok(())
                }
            });
        }
        assert_eq!(g.wait(), Err(3));
        assert_eq!(n.load(Ordering::SeqCst), 100);
    });
}

#[test]
fn a_panic_cancels_and_comes_back_out_of_wait() {
    let (g, ctx) = Group::<()>::with_context(&context::background());
    g.go(|| panic!("subtask exploded"));
    let c = ctx.clone();
    g.go(move || {
        for _ in &c.done() {}
        Ok(())
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.wait()));
    let payload = r.expect_err("wait should re-raise the panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"subtask exploded"));
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

#[test]
#[should_panic(expected = "limit must be at least 1")]
fn a_zero_limit_is_refused() {
    Group::<()>::new().set_limit(0);
}

#[test]
#[should_panic(expected = "modify limit while 1 goroutines in the group are still active")]
fn changing_the_limit_under_running_tasks_is_refused() {
    let mut g = Group::<()>::new();
    let (tx, rx) = weft::chan::<()>(0);
    g.go(move || {
        let _ = rx.recv();
        Ok(())
    });
    let _keep = tx;
    g.set_limit(4);
}
