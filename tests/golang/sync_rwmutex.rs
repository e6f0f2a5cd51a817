//! Port of Go's `src/sync/rwmutex_test.go`.
//!
//! Ported: TestParallelReaders, TestRWMutex (its try-lock checks and the
//! reader/writer hammer at GOMAXPROCS 1, 4 and 10), TestRLocker.
//!
//! TestRLocker differs in form: Go hands the read side out as a `Locker`
//! and unlocks it from the test goroutine; weft's guards stay with the
//! goroutine that locked (they are `!Send`). So one goroutine takes the two
//! read locks and drops them when the test says, another takes the write
//! lock and drops it when the test says; the lock states and the checks are
//! Go's: a write lock waits for both read locks, and read locks asked for
//! while the write lock is held wait for it. The benchmarks belong in
//! sched-bench.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use weft::sync::RwLock;
use weft::{chan, select, Receiver, Sender};

use crate::common::{self, MaxProcs};

fn parallel_reader(
    m: &RwLock<()>,
    clocked: Sender<bool>,
    cunlock: Receiver<bool>,
    cdone: Sender<bool>,
) {
    let g = m.read();
    clocked.send(true).unwrap();
    cunlock.recv().unwrap();
    drop(g);
    cdone.send(true).unwrap();
}

fn do_test_parallel_readers(num_readers: usize, gomaxprocs: usize) {
    weft::set_maxprocs(gomaxprocs);
    let m = Arc::new(RwLock::new(()));
    let (clocked, clocked_rx) = chan(0);
    let (cunlock, cunlock_rx) = chan(0);
    let (cdone, cdone_rx) = chan(0);
    for _ in 0..num_readers {
        let (m, a, b, c) = (
            m.clone(),
            clocked.clone(),
            cunlock_rx.clone(),
            cdone.clone(),
        );
        weft::go!(move || parallel_reader(&m, a, b, c));
    }
    // Wait for all parallel RLock()s to succeed.
    for _ in 0..num_readers {
        clocked_rx.recv().unwrap();
    }
    for _ in 0..num_readers {
        cunlock.send(true).unwrap();
    }
    // Wait for the goroutines to finish.
    for _ in 0..num_readers {
        cdone_rx.recv().unwrap();
    }
}

#[test]
fn parallel_readers() {
    common::run_alone(|| {
        let _restore = MaxProcs::set(weft::maxprocs());
        do_test_parallel_readers(1, 4);
        do_test_parallel_readers(3, 4);
        do_test_parallel_readers(4, 2);
    });
}

fn reader(rwm: &RwLock<()>, iterations: usize, activity: &AtomicI32, cdone: Sender<bool>) {
    for _ in 0..iterations {
        let g = rwm.read();
        let n = activity.fetch_add(1, Ordering::SeqCst) + 1;
        assert!((1..10000).contains(&n), "wlock({n})");
        for i in 0..100 {
            std::hint::black_box(i);
        }
        activity.fetch_add(-1, Ordering::SeqCst);
        drop(g);
    }
    cdone.send(true).unwrap();
}

fn writer(rwm: &RwLock<()>, iterations: usize, activity: &AtomicI32, cdone: Sender<bool>) {
    for _ in 0..iterations {
        let g = rwm.write();
        let n = activity.fetch_add(10000, Ordering::SeqCst) + 10000;
        assert_eq!(n, 10000, "wlock({n})");
        for i in 0..100 {
            std::hint::black_box(i);
        }
        activity.fetch_add(-10000, Ordering::SeqCst);
        drop(g);
    }
    cdone.send(true).unwrap();
}

fn hammer_rw_mutex(gomaxprocs: usize, num_readers: usize, iterations: usize) {
    weft::set_maxprocs(gomaxprocs);
    // Number of active readers + 10000 * number of active writers.
    let activity = Arc::new(AtomicI32::new(0));
    let rwm = Arc::new(RwLock::new(()));
    let (cdone, cdone_rx) = chan(0);
    let spawn_writer = || {
        let (rwm, a, c) = (rwm.clone(), activity.clone(), cdone.clone());
        weft::go!(move || writer(&rwm, iterations, &a, c));
    };
    let spawn_reader = || {
        let (rwm, a, c) = (rwm.clone(), activity.clone(), cdone.clone());
        weft::go!(move || reader(&rwm, iterations, &a, c));
    };
    spawn_writer();
    let mut i = 0;
    while i < num_readers / 2 {
        spawn_reader();
        i += 1;
    }
    spawn_writer();
    while i < num_readers {
        spawn_reader();
        i += 1;
    }
    // Wait for the 2 writers and all readers to finish.
    for _ in 0..2 + num_readers {
        cdone_rx.recv().unwrap();
    }
}

#[test]
fn rw_mutex() {
    common::run_alone(|| {
        let m = RwLock::new(());
        {
            let _w = m.write();
            assert!(
                m.try_write().is_none(),
                "TryLock succeeded with mutex locked"
            );
            assert!(
                m.try_read().is_none(),
                "TryRLock succeeded with mutex locked"
            );
        }
        assert!(
            m.try_write().is_some(),
            "TryLock failed with mutex unlocked"
        );
        {
            let r1 = m.try_read();
            assert!(r1.is_some(), "TryRLock failed with mutex unlocked");
            let r2 = m.try_read();
            assert!(r2.is_some(), "TryRLock failed with mutex rlocked");
            assert!(
                m.try_write().is_none(),
                "TryLock succeeded with mutex rlocked"
            );
        }

        let _restore = MaxProcs::set(weft::maxprocs());
        let n = 1000;
        for procs in [1, 4, 10] {
            for readers in [1, 3, 10] {
                hammer_rw_mutex(procs, readers, n);
            }
        }
        hammer_rw_mutex(10, 5, n);
    });
}

#[test]
fn r_locker() {
    common::run(|| {
        let wl = Arc::new(RwLock::new(()));
        let (wlocked, wlocked_rx) = chan::<bool>(1);
        let (rlocked, rlocked_rx) = chan::<bool>(1);
        let (runlock, runlock_rx) = chan::<()>(0); // "rl.Unlock()"
        let (wunlock, wunlock_rx) = chan::<()>(0); // "wl.Unlock()"
        let (lockreq, lockreq_rx) = chan::<()>(0);
        let (taken, taken_rx) = chan::<()>(0);
        let n = 10;
        // Go never closes these; a weft channel closes when its last
        // Sender drops (when the goroutines below end), so keep one.
        let _keep = (wlocked.clone(), rlocked.clone());
        // The read side ("rl"): takes two read locks when asked, drops one
        // per `runlock`.
        let l = wl.clone();
        weft::go!(move || {
            for _ in 0..n {
                lockreq_rx.recv().unwrap();
                let r1 = l.read();
                let r2 = l.read();
                rlocked.send(true).unwrap();
                taken.send(()).unwrap();
                runlock_rx.recv().unwrap();
                drop(r1);
                runlock_rx.recv().unwrap();
                drop(r2);
            }
        });
        // Go's goroutine, after its two `rl.Lock()`s: `wl.Lock()`, then the
        // next round's `rl.Lock()` while it holds the write lock.
        let l = wl.clone();
        weft::go!(move || {
            lockreq.send(()).unwrap();
            for i in 0..n {
                taken_rx.recv().unwrap();
                let w = l.write();
                wlocked.send(true).unwrap();
                if i + 1 < n {
                    lockreq.send(()).unwrap(); // its read locks wait for us
                }
                wunlock_rx.recv().unwrap();
                drop(w);
            }
        });
        for _ in 0..n {
            rlocked_rx.recv().unwrap();
            runlock.send(()).unwrap();
            select! {
                recv(wlocked_rx) -> _ => panic!("RLocker() didn't read-lock it"),
                default => {}
            }
            runlock.send(()).unwrap();
            wlocked_rx.recv().unwrap();
            select! {
                recv(rlocked_rx) -> _ => panic!("RLocker() didn't respect the write lock"),
                default => {}
            }
            wunlock.send(()).unwrap();
        }
    });
}
