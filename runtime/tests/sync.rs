//! `weft::sync` from plain OS threads (no goroutine involved) and the
//! behaviours that do not depend on the scheduler.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use weft_runtime::sync::{Cond, Mutex, Once, OnceLock, Pool, RwLock, Semaphore, WaitGroup};

#[test]
fn mutex_between_threads() {
    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                for _ in 0..20_000 {
                    *m.lock() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(Arc::try_unwrap(m).unwrap().into_inner(), 80_000);
}

#[test]
fn rwlock_between_threads() {
    let l = Arc::new(RwLock::new(0u64));
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..5_000 {
                    if i % 2 == 0 {
                        *l.write() += 1;
                    } else {
                        let _ = *l.read();
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(*l.read(), 10_000);
}

#[test]
fn waitgroup_cond_once_between_threads() {
    let wg = Arc::new(WaitGroup::new());
    let once = Arc::new(Once::new());
    let cell = Arc::new(OnceLock::new());
    let ran = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new((Mutex::new(false), Cond::new()));
    wg.add(8);
    for i in 0..8 {
        let (wg, once, cell, ran, gate) = (
            wg.clone(),
            once.clone(),
            cell.clone(),
            ran.clone(),
            gate.clone(),
        );
        thread::spawn(move || {
            let g = gate.1.wait_while(gate.0.lock(), |open| !*open);
            drop(g);
            once.call_once(|| {
                ran.fetch_add(1, Ordering::SeqCst);
            });
            cell.get_or_init(|| i);
            wg.done();
        });
    }
    *gate.0.lock() = true;
    gate.1.broadcast();
    wg.wait();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert!(cell.get().is_some());
}

#[test]
fn semaphore_and_pool_between_threads() {
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let pool = Arc::new(Pool::new(|| vec![0u8; 16]));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let (sem, inside, pool) = (sem.clone(), inside.clone(), pool.clone());
            thread::spawn(move || {
                for _ in 0..1_000 {
                    sem.acquire(1);
                    assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
                    let v = pool.get();
                    pool.put(v);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release(1);
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(sem.available(), 2);
}

#[test]
fn waitgroup_negative_counter_message() {
    let wg = WaitGroup::new();
    let err = std::panic::catch_unwind(AssertUnwindSafe(|| wg.done())).unwrap_err();
    assert_eq!(
        err.downcast_ref::<&str>().copied(),
        Some("sync: negative WaitGroup counter")
    );
    // The counter was put back: the group is still usable.
    wg.add(1);
    wg.done();
    wg.wait();
}

#[test]
fn once_panicking_closure_counts_as_done_oncelock_retries() {
    let once = Once::new();
    assert!(std::panic::catch_unwind(AssertUnwindSafe(|| once.call_once(|| panic!("x")))).is_err());
    assert!(once.is_completed());
    let mut ran = false;
    once.call_once(|| ran = true);
    assert!(!ran, "Go's rule: a panicking Do still counts");

    let cell = OnceLock::new();
    assert!(std::panic::catch_unwind(AssertUnwindSafe(|| {
        cell.get_or_init(|| panic!("y"));
    }))
    .is_err());
    assert_eq!(cell.get(), None);
    assert_eq!(*cell.get_or_init(|| 3), 3);
}

#[test]
#[should_panic(expected = "exceeds the semaphore's size")]
fn semaphore_request_above_size_panics() {
    Semaphore::new(2).acquire(3);
}

#[test]
fn mutex_poison_flag_from_threads() {
    let m = Arc::new(Mutex::new(1));
    let m2 = m.clone();
    let _ = thread::spawn(move || {
        let _g = m2.lock();
        panic!("thread dies holding the lock");
    })
    .join();
    assert!(m.is_poisoned());
    assert_eq!(*m.lock(), 1);
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Mutex<u8>>();
    check::<RwLock<u8>>();
    check::<WaitGroup>();
    check::<Cond>();
    check::<Once>();
    check::<OnceLock<u8>>();
    check::<Semaphore>();
    check::<Pool<Vec<u8>>>();
}
