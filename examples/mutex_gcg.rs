//! Port of the Go Concurrency Guide's "Mutex" (seed 004): a `Counter`
//! whose `Increment` locks its mutex around `value++`. The seed shows only
//! the type; here 10 goroutines increment it 100 times each.
//!
//! In Rust the mutex holds the value it protects, and the guard unlocks
//! when it is dropped (Go's `defer c.mu.Unlock()`).
//!
//! Prints:
//! ```text
//! value: 1000
//! ```

use std::sync::Arc;

use weft::sync::{Mutex, WaitGroup};

struct Counter {
    value: Mutex<i32>,
}

impl Counter {
    fn increment(&self) {
        let mut value = self.value.lock();
        *value += 1;
    }
}

fn main() {
    weft::run(|| {
        let c = Arc::new(Counter {
            value: Mutex::new(0),
        });
        let wg = Arc::new(WaitGroup::new());
        for _ in 0..10 {
            wg.add(1);
            let (c, wg) = (c.clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..100 {
                    c.increment();
                }
                wg.done();
            });
        }
        wg.wait();
        println!("value: {}", c.value.lock());
    });
}
