//! Port of *Concurrency in Go* notes, "Once" (seed 001): 100 goroutines
//! call `once.Do(increment)`; only one call runs it.
//!
//! Go's closure increments a captured `int`; here the count is an atomic,
//! which the goroutines can share.
//!
//! Prints:
//! ```text
//! count is 1
//! ```

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use weft::sync::{Once, WaitGroup};

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let count = Arc::new(AtomicI32::new(0));

        let increment = {
            let count = count.clone();
            move || {
                count.fetch_add(1, Ordering::SeqCst);
            }
        };

        let once = Arc::new(Once::new());
        let wg = Arc::new(WaitGroup::new());
        wg.add(100);
        for _ in 0..100 {
            let (once, wg, increment) = (once.clone(), wg.clone(), increment.clone());
            weft::go!(move || {
                let _done = common::defer(|| wg.done());
                once.call_once(increment);
            });
        }
        wg.wait();
        println!("count is {}", count.load(Ordering::SeqCst)); // 1
    });
}
