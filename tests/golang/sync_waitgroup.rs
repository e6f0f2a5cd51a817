//! Port of Go's `src/sync/waitgroup_test.go`.
//!
//! Ported: TestWaitGroup, TestWaitGroupMisuse (Go's panic message),
//! TestWaitGroupRace, TestWaitGroupAlign.
//!
//! Not ported: TestWaitGroupGo and TestIssue76126 — `WaitGroup.Go` (Go
//! 1.25) is not in weft's API (API.md); TestIssue76126 also needs a panic in
//! a goroutine to end the process, which weft does only with
//! `Config::panic_abort(true)`. The benchmarks belong in sched-bench.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use weft::sync::WaitGroup;
use weft::{chan, select};

use crate::common;

fn test_wait_group(wg1: &Arc<WaitGroup>, wg2: &Arc<WaitGroup>) {
    let n = 16;
    wg1.add(n);
    wg2.add(n);
    let (exited, exited_rx) = chan(n);
    for _ in 0..n {
        let (wg1, wg2, exited) = (wg1.clone(), wg2.clone(), exited.clone());
        weft::go!(move || {
            wg1.done();
            wg2.wait();
            exited.send(true).unwrap();
        });
    }
    wg1.wait();
    for _ in 0..n {
        select! {
            recv(exited_rx) -> _ => panic!("WaitGroup released group too soon"),
            default => {}
        }
        wg2.done();
    }
    for _ in 0..n {
        exited_rx.recv().unwrap(); // Will block if barrier fails to unlock someone.
    }
}

#[test]
fn wait_group() {
    common::run(|| {
        let wg1 = Arc::new(WaitGroup::new());
        let wg2 = Arc::new(WaitGroup::new());
        // Run the same test a few times to ensure barrier is in a proper state.
        for _ in 0..8 {
            test_wait_group(&wg1, &wg2);
        }
    });
}

#[test]
fn wait_group_misuse() {
    let r = common::run(|| {
        common::catch_panic(|| {
            let wg = WaitGroup::new();
            wg.add(1);
            wg.done();
            wg.done();
        })
    });
    let err = r.expect_err("Should panic");
    assert_eq!(err, "sync: negative WaitGroup counter", "Unexpected panic");
}

#[test]
fn wait_group_race() {
    common::run(|| {
        // Run this test for about 1ms.
        for _ in 0..1000 {
            let wg = Arc::new(WaitGroup::new());
            let n = Arc::new(AtomicI32::new(0));
            for _ in 0..2 {
                wg.add(1);
                let (wg, n) = (wg.clone(), n.clone());
                weft::go!(move || {
                    n.fetch_add(1, Ordering::SeqCst);
                    wg.done();
                });
            }
            // Wait for goroutine 1 and 2
            wg.wait();
            assert_eq!(n.load(Ordering::SeqCst), 2, "Spurious wakeup from Wait");
        }
    });
}

#[test]
fn wait_group_align() {
    struct X {
        _x: u8,
        wg: WaitGroup,
    }
    common::run(|| {
        let x = Arc::new(X {
            _x: 0,
            wg: WaitGroup::new(),
        });
        x.wg.add(1);
        let x2 = x.clone();
        weft::go!(move || x2.wg.done());
        x.wg.wait();
    });
}
