//! Port of the Go Concurrency Guide's "Starvation" (seed 004): a greedy
//! worker holds the shared lock for its whole work loop, a polite worker
//! takes it only around each third of its work; both count their loops for
//! the same time. The greedy one gets more done.
//!
//! The seed runs each for 1 s; here 250 ms (two busy goroutines per run).
//!
//! Prints (the counts vary; the seed prints the polite line with a
//! trailing space):
//! ```text
//! vim-go
//! Greedy worker was able to execute 33 work loops
//! Polite worker was able to execute 12 work loops
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::sync::{Mutex, WaitGroup};

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        println!("vim-go");

        let wg = Arc::new(WaitGroup::new());
        let shared_lock = Arc::new(Mutex::new(()));
        const RUNTIME: Duration = Duration::from_millis(250);

        let greedy_worker = {
            let (wg, shared_lock) = (wg.clone(), shared_lock.clone());
            move || {
                let _done = common::defer(|| wg.done());

                let mut count = 0;
                let begin = Instant::now();
                while begin.elapsed() <= RUNTIME {
                    let g = shared_lock.lock();
                    weft::time::sleep(Duration::from_nanos(3));
                    drop(g);
                    count += 1;
                }

                println!("Greedy worker was able to execute {count} work loops");
            }
        };

        let polite_worker = {
            let (wg, shared_lock) = (wg.clone(), shared_lock.clone());
            move || {
                let _done = common::defer(|| wg.done());

                let mut count = 0;
                let begin = Instant::now();
                while begin.elapsed() <= RUNTIME {
                    let g = shared_lock.lock();
                    weft::time::sleep(Duration::from_nanos(1));
                    drop(g);

                    let g = shared_lock.lock();
                    weft::time::sleep(Duration::from_nanos(1));
                    drop(g);

                    let g = shared_lock.lock();
                    weft::time::sleep(Duration::from_nanos(1));
                    drop(g);

                    count += 1;
                }

                println!("Polite worker was able to execute {count} work loops ");
            }
        };

        wg.add(2);
        weft::go!(greedy_worker);
        weft::go!(polite_worker);
        wg.wait();
    });
}
