//! Port of the Go Concurrency Guide's "Once" (seed 004): 100 goroutines
//! call `once.Do(increment)`; only the first call runs it. (Go's closure
//! increments a captured `int`; here an atomic the goroutines share.)
//!
//! Prints:
//! ```text
//! Count is 1
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

        let increments = Arc::new(WaitGroup::new());
        increments.add(100);

        for _ in 0..100 {
            let (once, increments, increment) =
                (once.clone(), increments.clone(), increment.clone());
            weft::go!(move || {
                let _done = common::defer(|| increments.done());
                once.call_once(increment);
            });
        }

        increments.wait();
        println!("Count is {}", count.load(Ordering::SeqCst));
    });
}
