//! The Go Concurrency Guide's starvation program against `weft::sync::Mutex`,
//! in a test binary of its own: run by test.sh under
//! `WEFT_SPAWN=continuation|child` × `WEFT_MAXPROCS=1|2`.
//!
//! Why alone: it asserts how two goroutines share one lock, and in
//! sync_matrix.rs the harness ran it beside 18 other tests sharing the one
//! runtime. Under AddressSanitizer with child stealing the polite worker then
//! managed 1 loop in 300 ms in 2-5 runs of 16 (at 0eb984e and since). A
//! goroutine dump 200 ms in showed why: both workers runnable, queued on a P
//! behind thousands of `seed_pool_reuse`'s 10,000 goroutines, each slowed by
//! ASan; whichever worker sat there waited a whole pass of that FIFO queue
//! while the other ran alone. Another test's load, not the mutex.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime as weft;
use weft_runtime::sync::{Mutex, WaitGroup};

#[path = "support/nap.rs"]
mod nap;
use nap::nap;

#[test]
fn seed_starvation_polite_worker_gets_its_share() {
    // The Go Concurrency Guide's starvation program: the greedy worker holds
    // the lock for its whole loop, the polite one takes it three times for a
    // third as long. Without starvation mode the holder re-takes the lock
    // before the woken waiter runs, and on one P the waiter never wins.
    let run_for = Duration::from_millis(300);
    let unit = Duration::from_micros(2);
    let (greedy, polite) = weft::run(move || {
        let lock = Arc::new(Mutex::new(()));
        let wg = Arc::new(WaitGroup::new());
        wg.add(2);
        let (l, w) = (lock.clone(), wg.clone());
        let greedy = weft::spawn(move || {
            let mut count = 0u64;
            let begin = Instant::now();
            while begin.elapsed() <= run_for {
                let g = l.lock();
                nap(3 * unit);
                drop(g);
                count += 1;
            }
            w.done();
            count
        });
        let (l, w) = (lock.clone(), wg.clone());
        let polite = weft::spawn(move || {
            let mut count = 0u64;
            let begin = Instant::now();
            while begin.elapsed() <= run_for {
                for _ in 0..3 {
                    let g = l.lock();
                    nap(unit);
                    drop(g);
                }
                count += 1;
            }
            w.done();
            count
        });
        wg.wait();
        (greedy.join().unwrap(), polite.join().unwrap())
    });
    eprintln!("Greedy worker was able to execute {greedy} work loops");
    eprintln!("Polite worker was able to execute {polite} work loops");
    assert!(
        polite * 10 >= greedy,
        "polite {polite} < 10% of greedy {greedy}"
    );
}
