//! Port of Go's `src/sync/pool_test.go`, the tests that involve no GC.
//!
//! Go's `Pool` returns nil when empty and has no `New`; weft's `Pool<T>`
//! always has a `new` function, so "empty" is a pool of `Option<T>` whose
//! `new` returns `None`. Go pins the goroutine to its P between `Put` and
//! `Get` (`runtime_procPin`); a weft goroutine changes P only at a
//! scheduling point, and `put`/`get` are none.
//!
//! Ported: TestPool's first half (what was put comes back, then the pool is
//! empty; Go's exact order "a" then "b" comes from its private slot, an
//! implementation detail its documentation disclaims, so the order is not
//! checked), TestPoolNew, TestPoolGC (Go checks, with cleanups run by the
//! GC, that after `Get` drains the pool it holds no reference to the
//! values; here each value counts its own drop — at GOMAXPROCS 1, as Go
//! runs it), TestPoolStress.
//!
//! Not ported: TestPool's second half and TestPoolRelease (what a GC cycle
//! drops; weft has no GC: its pool is bounded instead), TestPoolDequeue and
//! TestPoolChain (Go's internal lock-free queues; weft's pool has none),
//! TestNilPool (a nil `*Pool` cannot be written in Rust). The benchmarks
//! belong in sched-bench.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weft::chan;
use weft::sync::Pool;

use crate::common::{self, MaxProcs};

#[test]
fn pool() {
    common::run(|| {
        let p = Pool::new(|| None::<&str>);
        assert_eq!(p.get(), None, "expected empty");
        p.put(Some("a"));
        p.put(Some("b"));
        let mut got = [p.get(), p.get()];
        got.sort();
        assert_eq!(got, [Some("a"), Some("b")]);
        assert_eq!(p.get(), None);
    });
}

#[test]
fn pool_new() {
    common::run(|| {
        let i = Arc::new(AtomicUsize::new(0));
        let i2 = i.clone();
        let p = Pool::new(move || i2.fetch_add(1, Ordering::SeqCst) + 1);
        assert_eq!(p.get(), 1);
        assert_eq!(p.get(), 2);
        p.put(42);
        assert_eq!(p.get(), 42);
        assert_eq!(p.get(), 3);
    });
}

/// Counts its drops (Go's `runtime.AddCleanup`).
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Go's TestPoolGC: the pool holds no reference to values `get` drained.
#[test]
fn pool_gc() {
    common::run_alone(|| {
        let _procs = MaxProcs::set(1);
        let p = Pool::new(|| None::<Counted>);
        const N: usize = 100;
        for try_ in 0..3 {
            let cln = Arc::new(AtomicUsize::new(0));
            for _ in 0..N {
                p.put(Some(Counted(cln.clone())));
            }
            for _ in 0..N {
                drop(p.get());
            }
            let cln1 = cln.load(Ordering::SeqCst);
            assert_eq!(
                cln1, N,
                "only {cln1} out of {N} resources are cleaned up on try {try_}"
            );
        }
    });
}

#[test]
fn pool_stress() {
    common::run(|| {
        const P: usize = 10;
        const N: usize = 100_000; // Go: 1e6
        let p = Arc::new(Pool::new(|| None::<i32>));
        let (done, done_rx) = chan(0);
        for _ in 0..P {
            let (p, done) = (p.clone(), done.clone());
            weft::go!(move || {
                let mut v = Some(0);
                for _ in 0..N {
                    if v.is_none() {
                        v = Some(0);
                    }
                    p.put(v);
                    v = p.get();
                    if let Some(x) = v {
                        assert_eq!(x, 0, "expect 0, got {x}");
                    }
                }
                done.send(true).unwrap();
            });
        }
        for _ in 0..P {
            done_rx.recv().unwrap();
        }
    });
}
