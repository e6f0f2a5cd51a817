//! Port of *Concurrency in Go* notes, "Mutex and RWMutex" (seed 001): six
//! goroutines increment and six decrement a shared count under a mutex,
//! each printing the count while it holds the lock.
//!
//! In Rust the mutex holds the count it guards; the guard unlocks when it
//! is dropped (Go's `defer lock.Unlock()`).
//!
//! Prints 12 lines in some order, each one more or one less than the line
//! before (the prints happen under the lock), then `Done`:
//! ```text
//! Incr: 1
//! Decr: 0
//! Incr: 1
//! ...
//! Done
//! ```

use std::sync::Arc;

use weft::sync::{Mutex, WaitGroup};

fn main() {
    weft::run(|| {
        let count = Arc::new(Mutex::new(0));

        let incr = {
            let count = count.clone();
            move || {
                let mut count = count.lock();
                *count += 1;
                println!("Incr: {count}");
            }
        };

        let decr = {
            let count = count.clone();
            move || {
                let mut count = count.lock();
                *count -= 1;
                println!("Decr: {count}");
            }
        };

        let arithmetic = Arc::new(WaitGroup::new());
        for _ in 0..=5 {
            arithmetic.add(1);
            let (arithmetic, incr) = (arithmetic.clone(), incr.clone());
            weft::go!(move || {
                incr();
                arithmetic.done();
            });
        }

        for _ in 0..=5 {
            arithmetic.add(1);
            let (arithmetic, decr) = (arithmetic.clone(), decr.clone());
            weft::go!(move || {
                decr();
                arithmetic.done();
            });
        }

        arithmetic.wait();
        println!("Done");
    });
}
