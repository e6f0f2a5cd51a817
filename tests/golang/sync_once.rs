//! Port of Go's `src/sync/once_test.go`: TestOnce, TestOncePanic (a `Once`
//! whose function panicked counts as done, as in Go). The benchmark belongs
//! in sched-bench.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use weft::sync::Once;
use weft::{chan, Sender};

use crate::common;

fn run(once: &Once, o: &AtomicU32, c: Sender<bool>) {
    once.call_once(|| {
        o.fetch_add(1, Ordering::SeqCst);
    });
    let v = o.load(Ordering::SeqCst);
    assert_eq!(v, 1, "once failed inside run: {v} is not 1");
    c.send(true).unwrap();
}

#[test]
fn once() {
    common::run(|| {
        let o = Arc::new(AtomicU32::new(0));
        let once = Arc::new(Once::new());
        let (c, c_rx) = chan(0);
        const N: usize = 10;
        for _ in 0..N {
            let (once, o, c) = (once.clone(), o.clone(), c.clone());
            weft::go!(move || run(&once, &o, c));
        }
        for _ in 0..N {
            c_rx.recv().unwrap();
        }
        let v = o.load(Ordering::SeqCst);
        assert_eq!(v, 1, "once failed outside run: {v} is not 1");
    });
}

#[test]
fn once_panic() {
    common::run(|| {
        let once = Once::new();
        let r = common::catch_panic(|| once.call_once(|| panic!("failed")));
        assert!(r.is_err(), "Once.Do did not panic");
        once.call_once(|| panic!("Once.Do called twice"));
    });
}
