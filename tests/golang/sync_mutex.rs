//! Port of Go's `src/sync/mutex_test.go`.
//!
//! Ported: TestSemaphore (Go hammers the runtime's internal semaphore,
//! `runtime_Semacquire`; weft's runtime semaphore is internal too, so the
//! same hammer runs on the public `weft::sync::Semaphore` of size 1),
//! TestMutex, TestMutexFairness.
//!
//! Not ported: TestMutexMisuse — unlocking an unlocked mutex cannot be
//! written: weft's `Mutex` unlocks by dropping its guard. The benchmarks
//! belong in sched-bench.

use std::sync::Arc;

use weft::sync::{Mutex, Semaphore};
use weft::{chan, select, Sender};

use crate::common::{self, us};

fn hammer_semaphore(s: &Semaphore, loops: usize, cdone: Sender<bool>) {
    for _ in 0..loops {
        s.acquire(1);
        s.release(1);
    }
    cdone.send(true).unwrap();
}

#[test]
fn semaphore() {
    common::run(|| {
        let s = Arc::new(Semaphore::new(1));
        let (c, c_rx) = chan(0);
        for _ in 0..10 {
            let (s, c) = (s.clone(), c.clone());
            weft::go!(move || hammer_semaphore(&s, 1000, c));
        }
        for _ in 0..10 {
            c_rx.recv().unwrap();
        }
        assert_eq!(s.available(), 1);
    });
}

fn hammer_mutex(m: &Mutex<u64>, loops: usize, cdone: Sender<bool>) {
    for i in 0..loops {
        if i % 3 == 0 {
            if let Some(mut g) = m.try_lock() {
                *g += 1;
            }
            continue;
        }
        *m.lock() += 1;
    }
    cdone.send(true).unwrap();
}

#[test]
fn mutex() {
    common::run(|| {
        let m = Arc::new(Mutex::new(0u64));
        {
            let _g = m.lock();
            assert!(
                m.try_lock().is_none(),
                "TryLock succeeded with mutex locked"
            );
        }
        assert!(m.try_lock().is_some(), "TryLock failed with mutex unlocked");
        let (c, c_rx) = chan(0);
        for _ in 0..10 {
            let (m, c) = (m.clone(), c.clone());
            weft::go!(move || hammer_mutex(&m, 1000, c));
        }
        for _ in 0..10 {
            c_rx.recv().unwrap();
        }
        // Every plain lock counted (the try_locks may have failed).
        assert!(*m.lock() >= 10 * 666);
    });
}

#[test]
fn mutex_fairness() {
    common::run(|| {
        let mu = Arc::new(Mutex::new(()));
        let (stop_tx, stop) = chan::<bool>(0);
        let m = mu.clone();
        weft::go!(move || loop {
            {
                let _g = m.lock();
                weft::time::sleep(us(100));
            }
            select! {
                recv(stop) -> _ => return,
                default => {}
            }
        });
        let (done_tx, done) = chan(1);
        let m = mu.clone();
        weft::go!(move || {
            for _ in 0..10 {
                weft::time::sleep(us(100));
                drop(m.lock());
            }
            done_tx.send(true).unwrap();
        });
        select! {
            recv(done) -> r => { r.unwrap(); }
            recv(weft::time::after(std::time::Duration::from_secs(10))) -> _ => {
                panic!("can't acquire Mutex in 10 seconds")
            }
        }
        stop_tx.close().unwrap(); // Go's deferred close(stop)
    });
}
