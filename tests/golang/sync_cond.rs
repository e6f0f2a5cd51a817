//! Port of Go's `src/sync/cond_test.go`.
//!
//! Ported: TestCondSignal, TestCondSignalGenerations (waiters wake in FIFO
//! order), TestCondBroadcast, TestRace, TestCondSignalStealing.
//!
//! weft's `Cond` has std's `Condvar` shape: `wait` takes the `Mutex` guard
//! and returns it re-locked, where Go's `c.Wait()` works on `c.L`. The data
//! Go guards with `m` (`exit`, `x`, `done`) lives inside the `Mutex` here.
//!
//! Not ported: TestCondCopy — Go detects a copied `Cond` at run time; a Rust
//! `Cond` cannot be copied (it is not `Copy` or `Clone`), so the misuse does
//! not compile. The benchmarks belong in sched-bench.

use std::sync::Arc;

use weft::sync::{Cond, Mutex};
use weft::{chan, select};

use crate::common;

#[test]
fn cond_signal() {
    common::run(|| {
        let mc = Arc::new((Mutex::new(()), Cond::new()));
        let mut n = 2;
        let (running, running_rx) = chan(n);
        let (awake, awake_rx) = chan(n);
        for _ in 0..n {
            let (mc, running, awake) = (mc.clone(), running.clone(), awake.clone());
            weft::go!(move || {
                let g = mc.0.lock();
                running.send(true).unwrap();
                let _g = mc.1.wait(g);
                awake.send(true).unwrap();
            });
        }
        for _ in 0..n {
            running_rx.recv().unwrap(); // Wait for everyone to run.
        }
        while n > 0 {
            select! {
                recv(awake_rx) -> _ => panic!("goroutine not asleep"),
                default => {}
            }
            {
                let _g = mc.0.lock();
                mc.1.signal();
            }
            awake_rx.recv().unwrap(); // Will deadlock if no goroutine wakes up
            select! {
                recv(awake_rx) -> _ => panic!("too many goroutines awake"),
                default => {}
            }
            n -= 1;
        }
        mc.1.signal();
    });
}

#[test]
fn cond_signal_generations() {
    common::run(|| {
        let mc = Arc::new((Mutex::new(()), Cond::new()));
        let n = 100;
        let (running, running_rx) = chan(n);
        let (awake, awake_rx) = chan(n);
        for i in 0..n {
            let (m, running, awake) = (mc.clone(), running.clone(), awake.clone());
            weft::go!(move || {
                let g = m.0.lock();
                running.send(true).unwrap();
                let _g = m.1.wait(g);
                // The test returns without receiving the last one (Go's
                // buffered send succeeds regardless; here the send fails
                // once the receiver is gone).
                let _ = awake.send(i);
            });
            if i > 0 {
                let a = awake_rx.recv().unwrap();
                assert_eq!(a, i - 1, "wrong goroutine woke up: want {}, got {a}", i - 1);
            }
            running_rx.recv().unwrap();
            let _g = mc.0.lock();
            mc.1.signal();
        }
    });
}

#[test]
fn cond_broadcast() {
    common::run(|| {
        // The mutex guards Go's `exit`.
        let mc = Arc::new((Mutex::new(false), Cond::new()));
        let n = 200;
        let (running, running_rx) = chan(n);
        let (awake, awake_rx) = chan(n);
        for g in 0..n {
            let (mc, running, awake) = (mc.clone(), running.clone(), awake.clone());
            weft::go!(move || {
                let mut exit = mc.0.lock();
                while !*exit {
                    running.send(g).unwrap();
                    exit = mc.1.wait(exit);
                    awake.send(g).unwrap();
                }
            });
        }
        for i in 0..n {
            for _ in 0..n {
                running_rx.recv().unwrap(); // Will deadlock unless n are running.
            }
            if i == n - 1 {
                *mc.0.lock() = true;
            }
            select! {
                recv(awake_rx) -> _ => panic!("goroutine not asleep"),
                default => {}
            }
            {
                let _g = mc.0.lock();
                mc.1.broadcast();
            }
            let mut seen = vec![false; n];
            for _ in 0..n {
                let g = awake_rx.recv().unwrap();
                assert!(!seen[g], "goroutine woke up twice");
                seen[g] = true;
            }
        }
        select! {
            recv(running_rx) -> _ => panic!("goroutine did not exit"),
            default => {}
        }
        mc.1.broadcast();
    });
}

/// Go's TestRace.
#[test]
fn race() {
    common::run(|| {
        // The mutex guards Go's `x`.
        let c = Arc::new((Mutex::new(0), Cond::new()));
        let (done, done_rx) = chan::<bool>(0);
        let (c1, d1) = (c.clone(), done.clone());
        weft::go!(move || {
            let mut x = c1.0.lock();
            *x = 1;
            x = c1.1.wait(x);
            assert_eq!(*x, 2, "want 2");
            *x = 3;
            c1.1.signal();
            drop(x);
            d1.send(true).unwrap();
        });
        let (c2, d2) = (c.clone(), done.clone());
        weft::go!(move || {
            let mut x = c2.0.lock();
            loop {
                if *x == 1 {
                    *x = 2;
                    c2.1.signal();
                    break;
                }
                drop(x);
                weft::yield_now();
                x = c2.0.lock();
            }
            drop(x);
            d2.send(true).unwrap();
        });
        let (c3, d3) = (c.clone(), done.clone());
        weft::go!(move || {
            let mut x = c3.0.lock();
            loop {
                if *x == 2 {
                    x = c3.1.wait(x);
                    assert_eq!(*x, 3, "want 3");
                    break;
                }
                if *x == 3 {
                    break;
                }
                drop(x);
                weft::yield_now();
                x = c3.0.lock();
            }
            drop(x);
            d3.send(true).unwrap();
        });
        for _ in 0..3 {
            done_rx.recv().unwrap();
        }
    });
}

#[test]
fn cond_signal_stealing() {
    common::run(|| {
        for _ in 0..1000 {
            // The mutex guards Go's `done`.
            let mc = Arc::new((Mutex::new(false), Cond::new()));

            // Start a waiter.
            let (ch, ch_rx) = chan::<()>(0);
            let (m, c) = (mc.clone(), ch.clone());
            weft::go!(move || {
                let g = m.0.lock();
                c.send(()).unwrap();
                let g = m.1.wait(g);
                drop(g);
                c.send(()).unwrap();
            });
            ch_rx.recv().unwrap();
            drop(mc.0.lock());

            // We know that the waiter is in the cond.Wait() call because we
            // synchronized with it, then acquired/released the mutex it was
            // holding when we synchronized.
            //
            // Start two goroutines that will race: one will broadcast on
            // the cond var, the other will wait on it.
            //
            // The new waiter may or may not get notified, but the first one
            // has to be notified.
            let m = mc.clone();
            weft::go!(move || m.1.broadcast());
            let m = mc.clone();
            weft::go!(move || {
                let mut done = m.0.lock();
                while !*done {
                    done = m.1.wait(done);
                }
            });

            // Check that the first waiter does get signaled.
            ch_rx.recv().unwrap();

            // Release the second waiter in case it didn't get the
            // broadcast.
            *mc.0.lock() = true;
            mc.1.broadcast();
        }
    });
}
